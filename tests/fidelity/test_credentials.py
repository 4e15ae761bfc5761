"""C2PA Content Credentials (issue 18 parts 1–2): the signing identity, signed exports, renders and artwork
images, `generec provenance verify`, and the tamper table (pixels changed, re-muxed, trimmed, truncated,
manifest stripped), each checked by the C2PA SDK's own Reader."""

from __future__ import annotations

import json
import os
import shutil
import stat
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from generec_desktop.fidelity import credentials as cr

C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")  # the C2PA box's uuid in BMFF files


def _boxes(data: bytes) -> list[tuple[int, int, bytes]]:
    """Top-level BMFF boxes: (offset, size, type)."""
    out, i = [], 0
    while i + 8 <= len(data):
        size, typ = struct.unpack(">I4s", data[i:i + 8])
        if size == 1:
            size = struct.unpack(">Q", data[i + 8:i + 16])[0]
        elif size == 0:
            size = len(data) - i
        out.append((i, size, typ))
        i += size
    return out


def _own_image(path: Path, seed: int = 0, size: tuple[int, int] = (200, 150)) -> Path:
    """An image no demo contains: smooth colour fields with a little noise (a watermark needs texture)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    h, w = size[1], size[0]
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([(x * 255 // w), (y * 255 // h), ((x + y) * 127 // (w + h)) + 60], axis=-1).astype(np.int16)
    img += rng.integers(-20, 21, img.shape, dtype=np.int16)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, quality=95)
    return path


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


# ------------------------------------------------------------------------------------ identity


def test_local_identity_is_made_once_with_private_keys_and_a_ca_signed_leaf() -> None:
    from cryptography import x509

    ident = cr.signing_identity()
    folder = cr.identity_dir() / "local"
    assert ident.source == "local" and (folder / "ca.pem").is_file()
    for key in ("ca.key", "signer.key"):
        assert stat.S_IMODE((folder / key).stat().st_mode) == 0o600
    leaf = x509.load_pem_x509_certificate(ident.certs_pem)
    ca = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    assert leaf.issuer == ca.subject != leaf.subject  # not self-signed: the SDK refuses those
    leaf.verify_directly_issued_by(ca)
    assert os.uname().nodename not in ident.subject  # the names travel in every file: no host name
    again = cr.signing_identity()
    assert again.certs_pem == ident.certs_pem  # made once, then reused


def test_a_self_signed_organisation_certificate_is_one_clear_error(tmp_path: Path, monkeypatch) -> None:
    cert, key = _org_identity(tmp_path, self_signed=True)
    monkeypatch.setenv(cr.CERT_ENV, str(cert))
    monkeypatch.setenv(cr.KEY_ENV, str(key))
    with pytest.raises(cr.CredentialsError, match="self-signed"):
        cr.signing_identity()
    monkeypatch.delenv(cr.KEY_ENV)
    with pytest.raises(cr.CredentialsError, match="both"):
        cr.signing_identity()


def _org_identity(folder: Path, *, self_signed: bool = False) -> tuple[Path, Path]:
    """An 'organisation' CA and leaf made here (as a CA on a trust list would issue them)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    ca_key, key = ec.generate_private_key(ec.SECP384R1()), ec.generate_private_key(ec.SECP384R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Studio"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Example Studio Root")])
    leaf_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Studio"),
                           x509.NameAttribute(NameOID.COMMON_NAME, "Example Studio uploads")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA384()))
    issuer, signer = (leaf_name, key) if self_signed else (ca_name, ca_key)
    leaf = (x509.CertificateBuilder().subject_name(leaf_name).issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                key.public_key() if self_signed else ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(signer, hashes.SHA384()))
    cert_p, key_p = folder / "org-chain.pem", folder / "org.key"
    cert_p.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_p.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    (folder / "org-ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return cert_p, key_p


def test_an_organisation_certificate_signs_and_is_trusted_only_with_its_anchor(tmp_path: Path, capsys) -> None:
    from generec_desktop.cli import main

    cert, key = _org_identity(tmp_path)
    assert main(["provenance", "identity", "--cert", str(cert), "--key", str(key)]) == 0
    assert "Example Studio uploads" in capsys.readouterr().out
    ident = cr.signing_identity()
    assert ident.source == "organisation.json" and ident.alg == "es384"
    img = _own_image(tmp_path / "art.png", seed=3)
    cr.sign_image(img, kind="ai_created", watermark_payload=0x1234abcd)
    plain = cr.read_credentials(img)
    assert plain.state == "valid" and plain.signer == "Example Studio uploads"  # intact, signer unknown here
    assert any(f["code"] == "signingCredential.untrusted" for f in plain.failures)
    anchored = cr.read_credentials(img, trust_pem=(tmp_path / "org-ca.pem").read_text())
    assert anchored.state == "trusted"
    assert main(["provenance", "verify", str(img), "--no-watermark",
                 "--trust-anchors", str(tmp_path / "org-ca.pem")]) == 0
    assert "signed by a certificate you trust" in capsys.readouterr().out
    assert main(["provenance", "identity", "--local"]) == 0
    assert cr.signing_identity().source == "local"


# ------------------------------------------------------------------------------------ artwork images


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_sign_image_in_place_keeps_the_watermark_and_names_the_original(tmp_path: Path, suffix: str) -> None:
    from PIL import Image

    from generec_desktop.fidelity import watermark as wm
    from generec_desktop.safefiles import file_sha256

    original = _own_image(tmp_path / "frame.png", seed=1, size=(256, 192))
    before_original = file_sha256(original)
    payload = 0x5EC0FFEE
    marked = wm.embed_image(_read_rgb(original), payload)
    art = tmp_path / f"artwork{suffix}"
    Image.fromarray(marked).save(art, quality=95, lossless=suffix == ".webp")
    pixels_before = _read_rgb(art)
    res = cr.sign_image(art, kind="ai_edited", parent=original, operation="artwork",
                        params={"prompt": "a bright cover", "seed": 7}, generator="generec artwork (test)",
                        target_audience={"id": "segment:1", "name": "Segment 2: cyclists"},
                        fidelity={"status": "pass"}, watermark_payload=payload)
    assert res.path == art and res.bytes_added > 0 and res.ingredient == "stream"
    assert np.array_equal(_read_rgb(art), pixels_before)  # the manifest sits beside the pixels
    det = wm.detect_images([_read_rgb(art)], candidates=[payload])
    assert det.found and det.payload == payload
    assert file_sha256(original) == before_original
    c = cr.read_credentials(art)
    assert c.state == "trusted", c.failures
    assert c.digital_source_types == ["compositeWithTrainedAlgorithmicMedia"]
    assert [a["action"] for a in c.actions][:2] == ["c2pa.opened", "c2pa.edited"]
    assert c.ingredients[0]["title"] == "frame.png" and c.ingredients[0]["sha256"] == before_original
    assert c.audience == {"id": "segment:1", "name": "Segment 2: cyclists"}
    assert c.watermark_payload == f"{payload:08x}" and c.fidelity == {"status": "pass"}
    assert not list(tmp_path.glob(".tmp-*"))


def test_sign_image_refuses_bad_input_and_leaves_the_file_as_it_was(tmp_path: Path, monkeypatch) -> None:
    img = _own_image(tmp_path / "a.png")
    before = img.read_bytes()
    with pytest.raises(cr.CredentialsError, match="parent"):
        cr.sign_image(img, kind="ai_edited")
    with pytest.raises(cr.CredentialsError, match="not in this format"):
        cr.sign_image(img, out=tmp_path / "a.bmp")
    with pytest.raises(cr.CredentialsError, match="exists already"):
        cr.sign_image(img, out=img)
    (tmp_path / "not-an-image.png").write_bytes(b"hello, not a png")
    with pytest.raises(cr.CredentialsError, match="failed"):
        cr.sign_image(tmp_path / "not-an-image.png")
    # a signer that fails mid-way (a key that does not belong to the certificate)
    cert, _ = _org_identity(tmp_path)
    (tmp_path / "other").mkdir()
    _, other_key = _org_identity(tmp_path / "other")
    monkeypatch.setenv(cr.CERT_ENV, str(cert))
    monkeypatch.setenv(cr.KEY_ENV, str(other_key))
    with pytest.raises(cr.CredentialsError):
        cr.sign_image(img)
    assert img.read_bytes() == before
    assert [p.name for p in tmp_path.rglob(".tmp*")] == []


# ------------------------------------------------------------------------------------ exports


@pytest.fixture
def exported(ws_item):
    from generec_desktop.fidelity.export import run_export

    ws, item, pv = ws_item
    res = run_export(ws, pv, rank=False)
    return ws, item, res


def test_an_export_carries_signed_credentials_and_its_sidecar_and_mark(exported) -> None:
    from generec_desktop.fidelity import watermark as wm
    from generec_desktop.fidelity.provenance import verify_file

    ws, item, res = exported
    path = ws.media_path(res.item)
    data = path.read_bytes()
    boxes = _boxes(data)
    assert [b[2] for b in boxes][:2] == [b"ftyp", b"uuid"]  # the manifest box right after ftyp, moov after it
    assert data[boxes[1][0] + 8:boxes[1][0] + 24] == C2PA_UUID
    kinds = [t for _, _, t in boxes]
    assert b"moof" not in kinds and kinds.index(b"moov") < kinds.index(b"mdat")  # non-fragmented, fast start kept
    c = cr.read_credentials(path)
    assert c.state == "trusted", c.failures
    assert c.digital_source_types == ["compositeWithTrainedAlgorithmicMedia"]
    acts = [a["action"] for a in c.actions]
    assert acts[:2] == ["c2pa.opened", "c2pa.filtered"] and acts[-2:] == ["c2pa.transcoded", "c2pa.watermarked"]
    assert c.ingredients[0]["sha256"] == item.sha256 and c.ingredients[0]["relationship"] == "parentOf"
    assert c.audience and c.audience["id"] == "segment:0"
    assert c.fidelity and c.fidelity["status"] == res.report.status
    assert c.watermark_payload == f"{res.payload:08x}"
    assert c.provenance and c.provenance["version_id"] == res.version_id
    side = json.loads(res.sidecar.read_text())
    assert side["output"]["content_credentials"]["bytes_added"] > 0
    assert res.credentials and res.credentials["manifest_bytes"] > 0 and "sign" in res.timings
    ver = verify_file(path)
    assert ver.ok and ver.verdict_ok and set(ver.checks) == {"sha256", "embedded", "watermark"}
    det = wm.detect_video(path, max_frames=8, search=False)
    assert det.found and det.payload == res.payload


def test_a_signing_failure_fails_the_export_and_leaves_nothing(ws_item, tmp_path: Path, monkeypatch) -> None:
    from generec_desktop.fidelity.export import run_export

    ws, _item, pv = ws_item
    (tmp_path / "self").mkdir()
    cert, key = _org_identity(tmp_path / "self", self_signed=True)
    monkeypatch.setenv(cr.CERT_ENV, str(cert))
    monkeypatch.setenv(cr.KEY_ENV, str(key))
    with pytest.raises(cr.CredentialsError, match="self-signed"):  # refused before anything is encoded
        run_export(ws, pv, rank=False)
    # a key that does not belong to the certificate: found only when signing, after the encode and read-back
    cert, _ = _org_identity(tmp_path)
    (tmp_path / "other").mkdir()
    _, other_key = _org_identity(tmp_path / "other")
    monkeypatch.setenv(cr.CERT_ENV, str(cert))
    monkeypatch.setenv(cr.KEY_ENV, str(other_key))
    with pytest.raises(cr.CredentialsError, match="nothing was written"):
        run_export(ws, pv, rank=False)
    assert [it.kind for it in ws.items()] == ["human"]
    assert not any((ws.root / "versions").rglob("*.mp4"))
    assert not list(pv.folder.glob(".tmp-*")) and not (pv.folder / "exported.json").exists()
    monkeypatch.delenv(cr.CERT_ENV)
    monkeypatch.delenv(cr.KEY_ENV)
    assert run_export(ws, pv, rank=False).item.kind == "ai_edited"  # and it exports once the identity is fixed


_READER_SCRIPT = r"""
import json, sys
import c2pa
path, anchors = sys.argv[1], open(sys.argv[2]).read()
ctx = c2pa.Context.from_dict({"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": True},
                              "trust": {"trust_anchors": anchors}})
with c2pa.Reader(path, context=ctx) as r:
    store = json.loads(r.json())
    m = store["manifests"][store["active_manifest"]]
    acts = [a for x in m["assertions"] if x["label"].startswith("c2pa.actions") for a in x["data"]["actions"]]
    print(json.dumps({"state": r.get_validation_state(), "sources": [a.get("digitalSourceType") for a in acts],
                      "actions": [a["action"] for a in acts], "ingredients": m.get("ingredients", []),
                      "signer": m["signature_info"].get("common_name")}))
"""


def _reader_in_another_process(path: Path, anchors: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENEREC")}  # only what the command line says
    out = subprocess.run([sys.executable, "-c", _READER_SCRIPT, str(path), str(anchors)], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_sdks_own_reader_validates_an_export_and_an_artwork_image_with_only_the_local_ca(
        exported, tmp_path: Path) -> None:
    """Must show (issue 18): c2pa-python's Reader, in a separate process, with the local CA as the only
    trust anchor (the SDK's built-in list replaced), sees a trusted manifest, the AI digital source type and
    the ingredient with its hash."""
    ws, item, res = exported
    anchors = cr.identity_dir() / "local" / "ca.pem"
    video = _reader_in_another_process(ws.media_path(res.item), anchors)
    assert video["state"] == "Trusted"
    assert cr.DIGITAL_SOURCE["ai_edited"] in video["sources"]
    assert video["ingredients"][0]["relationship"] == "parentOf"
    assert video["ingredients"][0]["metadata"]["org.generec.sha256"] == item.sha256
    original = _own_image(tmp_path / "source.jpg", seed=5)
    art = _own_image(tmp_path / "art.jpg", seed=6)
    cr.sign_image(art, kind="ai_edited", parent=original, watermark_payload=7)
    image = _reader_in_another_process(art, anchors)
    assert image["state"] == "Trusted" and cr.DIGITAL_SOURCE["ai_edited"] in image["sources"]
    assert image["ingredients"][0]["title"] == "source.jpg"
    created = _own_image(tmp_path / "made.png", seed=8)
    cr.sign_image(created, kind="ai_created")
    made = _reader_in_another_process(created, anchors)
    assert made["state"] == "Trusted" and made["actions"][0] == "c2pa.created"
    assert made["sources"][0] == cr.DIGITAL_SOURCE["ai_created"] and not made["ingredients"]
    # another CA as the only anchor: the same files are not trusted (the anchor is what decides)
    _org_identity(tmp_path)
    assert _reader_in_another_process(art, tmp_path / "org-ca.pem")["state"] == "Valid"


# ------------------------------------------------------------------------------------ tamper table


def _remux(src: Path, dst: Path) -> None:
    """Stream copy into a new MP4 (what `ffmpeg -i src -c copy dst` does: custom tags and unknown boxes are
    not carried over)."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        for packet in inp.demux():
            if packet.dts is None or packet.stream.index not in streams:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)


def test_tamper_table_video(exported, tmp_path: Path, capsys) -> None:
    """Each way a file can change after export is reported for what it is: altered credentials are
    invalid; a copy without credentials says so, and the watermark still names the version."""
    from generec_desktop import media
    from generec_desktop.cli import main
    from generec_desktop.fidelity.provenance import verify_file

    ws, _item, res = exported
    src = ws.media_path(res.item)
    data = src.read_bytes()
    boxes = {t: (o, s) for o, s, t in _boxes(data)}
    name = f"item {res.item.id} ("
    rows: dict[str, object] = {}

    pixels = tmp_path / "pixels.mp4"  # bytes of the coded pictures changed, the container intact
    changed = bytearray(data)
    o, s = boxes[b"mdat"]
    for k in range(1, 20):
        changed[o + s * k // 20] ^= 0x55
    pixels.write_bytes(bytes(changed))
    c = cr.read_credentials(pixels)
    assert c.state == "invalid" and any(f["code"] == "assertion.bmffHash.mismatch" for f in c.failures)
    rows["pixels"] = c.state

    stripped = tmp_path / "stripped.mp4"  # the manifest box blanked into a 'free' box: plays, no credentials
    blank = bytearray(data)
    o, _ = boxes[b"uuid"]
    blank[o + 4:o + 8] = b"free"
    stripped.write_bytes(bytes(blank))
    assert media.probe(stripped).frame_count == media.probe(src).frame_count
    ver = verify_file(stripped, workspace=ws.root)
    assert ver.credentials.state == "none" and ver.checks.get("watermark") is True
    assert ver.identified and ver.identified.startswith(name) and res.version_id in ver.identified
    rows["stripped"] = (ver.credentials.state, ver.identified)

    remuxed = tmp_path / "remuxed.mp4"
    _remux(src, remuxed)
    ver = verify_file(remuxed, workspace=ws.root)
    assert ver.credentials.state == "none" and ver.manifest is None  # nothing names the payload: read blind
    assert ver.watermark_payload == f"{res.payload:08x}" and ver.identified and ver.identified.startswith(name)
    rows["remuxed"] = ver.credentials.state

    trimmed = tmp_path / "trimmed.mp4"  # a re-encoded cut: no tags, no credentials; the mark is in the pixels
    media.cut(src, 0.2, 0.8, trimmed)
    ver = verify_file(trimmed, workspace=ws.root)
    assert ver.credentials.state == "none" and ver.manifest is None
    assert ver.watermark_payload == f"{res.payload:08x}" and ver.identified and ver.identified.startswith(name)
    rows["trimmed"] = ver.credentials.state

    truncated = tmp_path / "truncated.mp4"  # the end of the file cut off
    truncated.write_bytes(data[: len(data) * 2 // 3])
    assert cr.read_credentials(truncated).state in ("invalid", "unreadable")
    rows["truncated"] = cr.read_credentials(truncated).state

    # the command says it in words, with the right exit codes
    assert main(["provenance", "verify", str(src)]) == 0
    out = capsys.readouterr().out
    assert "signed by a certificate you trust" in out and "partly made by a trained AI model" in out
    assert "From: " in out and item_title(ws, res) in out
    assert main(["provenance", "verify", str(pixels), "--no-watermark"]) == 1
    assert "NOT VALID" in capsys.readouterr().out
    assert main(["provenance", "verify", str(trimmed), "--workspace", str(ws.root)]) == 1
    out = capsys.readouterr().out
    assert "no Content Credentials" in out and f"payload {res.payload:08x}" in out and res.version_id in out
    print("tamper table (video):", rows)


def item_title(ws, res) -> str:
    parent = ws.item(res.item.parent_id)
    return str(parent.title or parent.original_name)


def test_tamper_table_image(tmp_path: Path) -> None:
    from PIL import Image

    from generec_desktop.fidelity import watermark as wm
    from generec_desktop.fidelity.provenance import verify_file

    payload = 0x0BADCAFE
    base = _own_image(tmp_path / "base.png", seed=9, size=(256, 256))
    art = tmp_path / "art.jpg"
    Image.fromarray(wm.embed_image(_read_rgb(base), payload)).save(art, quality=95)
    cr.sign_image(art, kind="ai_created", watermark_payload=payload)
    assert cr.read_credentials(art).state == "trusted"

    data = art.read_bytes()
    pixels = tmp_path / "pixels.jpg"
    changed = bytearray(data)
    changed[-300] ^= 0x10  # inside the entropy-coded picture data
    pixels.write_bytes(bytes(changed))
    c = cr.read_credentials(pixels)
    assert c.state == "invalid" and any(f["code"] == "assertion.dataHash.mismatch" for f in c.failures)

    resaved = tmp_path / "resaved.jpg"  # what most sharing tools do: decode and save again
    Image.open(art).save(resaved, quality=92)
    ver = verify_file(resaved)
    assert ver.credentials.state == "none"
    det = wm.detect_images([_read_rgb(resaved)], candidates=[payload])
    assert det.found and det.payload == payload
    # the soft binding names the mark, so a verifier of this app checks the right payload
    assert verify_file(art).checks == {"watermark": True}


def test_credentials_of_a_file_without_any_are_none_and_of_garbage_one_line(tmp_path: Path, small_clip: Path) -> None:
    assert cr.read_credentials(small_clip).state == "none"
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypisom" + os.urandom(300))
    c = cr.read_credentials(junk)
    assert c.state in ("none", "unreadable") and "\n" not in " ".join(c.sentences())
    with pytest.raises(cr.CredentialsError, match="does not exist"):
        cr.read_credentials(tmp_path / "missing.mp4")
    notes = tmp_path / "notes.txt"
    notes.write_text("not media at all\n")
    assert cr.read_credentials(notes).state == "none"


def test_verify_of_files_without_provenance_is_plain_words_and_exit_1(tmp_path: Path, small_clip: Path,
                                                                       capsys) -> None:
    from generec_desktop.cli import main

    notes = tmp_path / "notes.txt"
    notes.write_text("not media at all\n")
    for f in (notes, small_clip):
        assert main(["provenance", "verify", str(f)]) == 1
        out = capsys.readouterr()
        assert "no Content Credentials" in out.out and "NO GENEREC PROVENANCE" in out.out
        assert "Traceback" not in out.err
    assert main(["provenance", "verify", str(tmp_path / "missing.mp4")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_two_processes_making_the_identity_at_once_agree(tmp_path: Path) -> None:
    code = ("from generec_desktop.fidelity import credentials as cr; import sys; "
            "sys.stdout.write(cr.signing_identity().certs_pem.decode())")
    env = {**os.environ, "GENEREC_HOME": str(tmp_path / "home")}
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env) for _ in range(3)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(set(outs)) == 1 and outs[0].startswith(b"-----BEGIN CERTIFICATE")
    assert sorted(p.name for p in (tmp_path / "home" / "c2pa").iterdir()) == ["local"]
    shutil.rmtree(tmp_path / "home")


def test_an_original_the_sdk_cannot_parse_is_described_and_an_outside_file_says_its_origin_is_unknown(
        tmp_path: Path) -> None:
    from generec_desktop.safefiles import file_sha256

    broken = tmp_path / "original.mp4"  # a damaged original: the SDK cannot read it as an ingredient
    broken.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\xff" * 500)
    art = _own_image(tmp_path / "art.png", seed=11)
    res = cr.sign_image(art, kind="ai_edited", parent=broken, operation="style")
    c = cr.read_credentials(art)
    assert res.ingredient == "described" and c.state == "trusted", c.failures
    assert c.ingredients[0]["sha256"] == file_sha256(broken) and c.ingredients[0]["title"] == "original.mp4"
    assert c.digital_source_types == ["compositeWithTrainedAlgorithmicMedia"]
    outside = _own_image(tmp_path / "photo.jpg", seed=12)
    cr.sign_image(outside, kind="human", operation="edit", watermark_payload=3)
    c = cr.read_credentials(outside)
    assert c.state == "trusted" and c.actions[0]["action"] == "c2pa.opened" and c.digital_source_types == []
    assert c.ingredients[0]["title"] == "photo.jpg"  # the file itself, as it was before signing
