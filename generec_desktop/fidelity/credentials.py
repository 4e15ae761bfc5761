"""C2PA Content Credentials on everything the app exports (issue 18 parts 1–2).

Every exported video (``fidelity.export.run_export``), every file rendered for upload (``versions.render``)
and every artwork image (:func:`sign_image`) carries an embedded, signed C2PA manifest, made and read with
the C2PA SDK's own Python binding (``c2pa-python``: Adobe's c2pa-rs with a ctypes wrapper; offline for both
signing and validation). The manifest holds:

- ``c2pa.actions.v2``: ``c2pa.created`` (a creation, ``digitalSourceType`` trainedAlgorithmicMedia) or
  ``c2pa.opened`` of the original followed by what was done (``c2pa.filtered`` for a style, ``c2pa.edited``
  for a clip or an MCVD revision, ``c2pa.cropped`` for a reframe, ``c2pa.color_adjustments`` …, each with
  ``digitalSourceType`` compositeWithTrainedAlgorithmicMedia, the generator as ``softwareAgent`` and the
  parameters), then ``c2pa.watermarked`` and ``c2pa.transcoded`` for the export's re-encode;
- the original as a ``parentOf`` ingredient, with its sha256 in the ingredient's metadata (its own
  Content Credentials, if it has any, are carried along by the SDK);
- ``org.generec.audience`` (the target audience), ``org.generec.fidelity`` (the fidelity report), and
  ``c2pa.soft-binding`` naming our invisible watermark and its payload, so a copy whose manifest was
  stripped can be matched back to its credentials by the mark;
- ``claim_generator_info``: GeneRec Desktop and its version.

**Signing identity.** The SDK refuses self-signed end-entity certificates, so on first use the app makes
a local CA and an end-entity certificate signed by it (ECDSA P-256, :mod:`cryptography`) in
``data_home()/c2pa/local/`` beside the watermark key: ``ca.pem``/``ca.key`` and ``signer.pem``/``signer.key``
(keys mode 0600). Its names carry a random id, never the host or user name (they travel in every file).
When verifying, the local CA is a *user anchor*: this installation calls its own files "trusted"; another
installation calls them valid but from an unknown signer, as it should. An organisation's certificate
(one a CA on the C2PA trust list issued) replaces it, in this order:

1. environment: ``GENEREC_C2PA_CERT`` (PEM chain, end-entity first), ``GENEREC_C2PA_KEY`` (PEM private
   key), optional ``GENEREC_C2PA_TSA_URL`` (an RFC 3161 timestamp authority, asked at each signing),
   ``GENEREC_C2PA_ALG`` (default from the key: es256/es384/es512, ps256, ed25519);
2. ``data_home()/c2pa/organisation.json`` (``{"cert", "key", "tsa_url", "trust_anchors"}``), written by
   ``generec provenance identity --cert FILE --key FILE [--tsa-url URL]`` after a test signature;
3. the local identity.

Extra trust anchors for verifying (a partner's CA): ``GENEREC_C2PA_TRUST_ANCHORS`` (a PEM file) or
``trust_anchors`` in organisation.json; the local CA is always one.

Signing never writes in place: :func:`sign_file` reads a finished temp file and writes another temp file
beside it, which the caller renames into place, so a failure leaves nothing half-written and the original
untouched. The pixels are not touched (the manifest is one ``uuid`` box after ``ftyp`` in an MP4, an APP11
segment in a JPEG, a ``caBX`` chunk in a PNG, a ``C2PA`` chunk in a WebP): the watermark reads the same.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import json
import os
import secrets
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generec_desktop.jobs import GenerecError

if TYPE_CHECKING:
    from generec_desktop.corpus import Workspace

__all__ = [
    "ALG_ENV",
    "CERT_ENV",
    "DIGITAL_SOURCE",
    "KEY_ENV",
    "SOFT_BINDING_ALG",
    "TRUST_ENV",
    "TSA_ENV",
    "Credentials",
    "CredentialsError",
    "ManifestSpec",
    "SignResult",
    "SigningIdentity",
    "actions_for",
    "audience_ref",
    "build_definition",
    "forget_organisation_identity",
    "identity_dir",
    "local_identity",
    "mime_type",
    "read_credentials",
    "sign_file",
    "sign_image",
    "signing_identity",
    "trust_anchors",
    "use_organisation_identity",
]

CERT_ENV = "GENEREC_C2PA_CERT"
KEY_ENV = "GENEREC_C2PA_KEY"
TSA_ENV = "GENEREC_C2PA_TSA_URL"
ALG_ENV = "GENEREC_C2PA_ALG"
TRUST_ENV = "GENEREC_C2PA_TRUST_ANCHORS"
IDENTITY_DIR = "c2pa"
ORGANISATION_FILE = "organisation.json"
GENERATOR_NAME = "GeneRec Desktop"
#: Not (yet) in the C2PA soft-binding algorithm list: it names our mark (fidelity/watermark.py) so a verifier of
#: this app knows what to look for; other verifiers list the assertion without decoding it.
SOFT_BINDING_ALG = "org.generec.spread-spectrum.1"
_IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
DIGITAL_SOURCE = {
    "ai_created": _IPTC + "trainedAlgorithmicMedia",
    "ai_edited": _IPTC + "compositeWithTrainedAlgorithmicMedia",
}
_MIME = {".mp4": "video/mp4", ".m4v": "video/x-m4v", ".mov": "video/quicktime", ".jpg": "image/jpeg",
         ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp", ".tif": "image/tiff",
         ".tiff": "image/tiff", ".avif": "image/avif", ".heic": "image/heic", ".gif": "image/gif"}
#: What each editor operation is in C2PA's action vocabulary (C2PA 2.1 §18.15.4.2) and in words.
_OPERATION_ACTIONS: dict[str, tuple[str, str]] = {
    "style": ("c2pa.filtered", "restyled by a generative style model"),
    "clip": ("c2pa.edited", "a span of the original chosen by a recommender model"),
    "revise": ("c2pa.edited", "frames revised by a video diffusion model (MCVD) for an audience"),
    "thumbnail": ("c2pa.edited", "a frame of the original chosen as the thumbnail by a recommender model"),
    "blur": ("c2pa.filtered", "faces and licence plates blurred over their tracked spans"),
    "restore_faces": ("c2pa.color_adjustments", "the original's face colours restored"),
    "edit": ("c2pa.edited", "edited with AI tools"),
    "artwork": ("c2pa.edited", "artwork made by a generative image model"),
}
_WORDS = {
    "c2pa.created": "created", "c2pa.opened": "opened the original", "c2pa.edited": "edited",
    "c2pa.filtered": "filtered", "c2pa.cropped": "cropped", "c2pa.resized": "resized",
    "c2pa.color_adjustments": "colours adjusted", "c2pa.transcoded": "re-encoded",
    "c2pa.watermarked": "invisibly watermarked", "c2pa.placed": "placed an ingredient",
    "c2pa.converted": "converted",
}
_FAILURE_WORDS = {
    "assertion.bmffHash.mismatch": "the video or sound was changed after signing",
    "assertion.dataHash.mismatch": "the picture was changed after signing",
    "assertion.boxesHash.mismatch": "the file's contents were changed after signing",
    "assertion.collectionHash.mismatch": "the file's contents were changed after signing",
    "assertion.hashedURI.mismatch": "a statement in the credentials was altered",
    "assertion.missing": "a statement the credentials list is missing",
    "claimSignature.mismatch": "the credentials were altered after signing (the signature does not match)",
    "claimSignature.missing": "the credentials carry no signature",
    "claimSignature.outsideValidity": "the signing certificate was not valid when it signed",
    "signingCredential.untrusted": "the signer is not on your trust list (anyone can make such a certificate)",
    "signingCredential.revoked": "the signing certificate was revoked",
    "signingCredential.expired": "the signing certificate has expired",
    "signingCredential.invalid": "the signing certificate is malformed",
    "manifest.inaccessible": "the credentials point to data that is not in the file",
}


class CredentialsError(GenerecError):
    """Content Credentials could not be made, signed or read (one sentence, what to do)."""


# ------------------------------------------------------------------------------------ signing identity


@dataclass(frozen=True)
class SigningIdentity:
    """A certificate chain and its private key, as the C2PA signer takes them."""

    certs_pem: bytes  # end-entity first
    key_pem: bytes
    alg: str  # es256 | es384 | es512 | ps256 | ps384 | ps512 | ed25519
    tsa_url: str | None
    source: str  # "local" | "environment" | "organisation.json"
    subject: str
    issuer: str
    not_after: str  # ISO date
    trust_pem: str  # the anchors verification trusts (the local CA + configured ones)

    def describe(self) -> str:
        """One line: who signs, issued by whom, until when, from where."""
        tsa = f"; timestamps from {self.tsa_url}" if self.tsa_url else "; no timestamp authority"
        kind = ("this installation's local identity (trusted only here)" if self.source == "local"
                else f"an organisation's certificate ({self.source})")
        return f"{self.subject}, issued by {self.issuer}, valid until {self.not_after}: {kind}{tsa}"


def identity_dir() -> Path:
    """``data_home()/c2pa``: the local signing identity and organisation.json (beside watermark.key)."""
    from generec_desktop.config import data_home

    return data_home() / IDENTITY_DIR


def _name_text(name: Any) -> str:
    from cryptography.x509.oid import NameOID

    cn = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    org = name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    text = str(cn[0].value) if cn else name.rfc4514_string()
    if org and str(org[0].value) not in text:
        text += f" ({org[0].value})"
    return text


def _make_local(folder: Path) -> None:
    """Write a new local CA + end-entity certificate into ``folder`` (a fresh private folder)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    tag = secrets.token_hex(4)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    org = x509.NameAttribute(NameOID.ORGANIZATION_NAME, "GeneRec Desktop (local, unverified)")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([org, x509.NameAttribute(NameOID.COMMON_NAME, f"GeneRec local CA {tag}")])
    no_usage = dict(content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
                    encipher_only=False, decipher_only=False)
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now)
          .not_valid_after(now + dt.timedelta(days=20 * 365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **no_usage),
                         critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    ee_key = ec.generate_private_key(ec.SECP256R1())
    ee_name = x509.Name([org, x509.NameAttribute(NameOID.COMMON_NAME, f"GeneRec Desktop signer {tag}")])
    # the C2PA certificate profile: not a CA, digitalSignature, an allowed EKU (emailProtection is on the SDK's
    # default list; anyExtendedKeyUsage is refused), key identifiers, and a signer distinct from its issuer
    ee = (x509.CertificateBuilder().subject_name(ee_name).issuer_name(ca_name).public_key(ee_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now)
          .not_valid_after(now + dt.timedelta(days=10 * 365))
          .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **no_usage),
                         critical=True)
          .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ee_key.public_key()), critical=False)
          .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))

    def key_bytes(k: ec.EllipticCurvePrivateKey) -> bytes:
        return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())

    for name, data, mode in (("ca.pem", ca.public_bytes(serialization.Encoding.PEM), 0o644),
                             ("ca.key", key_bytes(ca_key), 0o600),
                             ("signer.pem", ee.public_bytes(serialization.Encoding.PEM), 0o644),
                             ("signer.key", key_bytes(ee_key), 0o600)):
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    (folder / "README.txt").write_text(
        "GeneRec Desktop's local C2PA signing identity (made on first use).\n"
        "ca.pem: the local CA, the trust anchor this installation verifies its own files with.\n"
        "signer.pem/signer.key: the end-entity certificate and key every export is signed with.\n"
        "Keep the .key files private. To sign with your organisation's certificate instead, see\n"
        "`generec provenance identity --help` or the GENEREC_C2PA_CERT / GENEREC_C2PA_KEY variables.\n",
        encoding="utf-8")


def _ensure_local() -> Path:
    """The local identity's folder ``identity_dir()/local``, made on first use (atomically: a private temp
    folder renamed into place; of two processes at once, the first one's is kept)."""
    final = identity_dir() / "local"
    if (final / "signer.key").is_file():
        return final
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".local.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        tmp.mkdir(mode=0o700)
        try:
            _make_local(tmp)
            with contextlib.suppress(OSError):  # lost the race: the other process's identity is kept
                os.rename(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        raise CredentialsError(f"Cannot make the local signing identity in {final}: {exc.strerror or exc}; "
                               f"make the folder writable or set {CERT_ENV} and {KEY_ENV}.") from exc
    if not (final / "signer.key").is_file():
        raise CredentialsError(f"{final} holds no signing identity (signer.key is missing); move the folder "
                               f"away and a new one is made, or set {CERT_ENV} and {KEY_ENV}.")
    return final


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise CredentialsError(f"Cannot read the {what} {path}: {exc.strerror or exc}.") from exc


def _alg_for(key_pem: bytes, source: str) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CredentialsError(f"The signing key ({source}) is not an unencrypted PEM private key.") from exc
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}.get(key.curve.name, "es256")
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise CredentialsError(f"The signing key ({source}) is of a type C2PA does not sign with; use EC, RSA or Ed25519.")


def _identity(certs_pem: bytes, key_pem: bytes, *, source: str, tsa_url: str | None, alg: str | None,
              extra_anchors: Sequence[str] = ()) -> SigningIdentity:
    from cryptography import x509

    try:
        chain = x509.load_pem_x509_certificates(certs_pem)
    except ValueError as exc:
        raise CredentialsError(f"The signing certificate ({source}) is not a PEM certificate chain.") from exc
    leaf = chain[0]
    if leaf.issuer == leaf.subject:
        raise CredentialsError(f"The signing certificate ({source}) is self-signed; C2PA needs one issued by a CA "
                               "(end-entity first in the PEM file, then its intermediates).")
    local = (_ensure_local() / "ca.pem").read_text(encoding="utf-8")
    return SigningIdentity(
        certs_pem=certs_pem, key_pem=key_pem, alg=(alg or _alg_for(key_pem, source)).lower(), tsa_url=tsa_url or None,
        source=source, subject=_name_text(leaf.subject), issuer=_name_text(leaf.issuer),
        not_after=leaf.not_valid_after_utc.date().isoformat(), trust_pem="\n".join([local, *extra_anchors]))


def local_identity() -> SigningIdentity:
    """This installation's own identity (made on first use; see the module docstring)."""
    folder = _ensure_local()
    return _identity(_read_bytes(folder / "signer.pem", "signing certificate"),
                     _read_bytes(folder / "signer.key", "signing key"), source="local", tsa_url=None, alg="es256",
                     extra_anchors=_configured_anchors())


def _organisation_config() -> dict[str, Any] | None:
    path = identity_dir() / ORGANISATION_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CredentialsError(f"{path} is unreadable; fix it or remove it (`generec provenance identity "
                               "--local`).") from exc
    if not isinstance(data, dict):
        raise CredentialsError(f"{path} is not a JSON object; fix it or remove it.")
    return data


def _configured_anchors() -> list[str]:
    """Extra trust anchors (PEM text): GENEREC_C2PA_TRUST_ANCHORS and organisation.json's trust_anchors."""
    out = []
    env = os.environ.get(TRUST_ENV)
    if env:
        out.append(_read_bytes(Path(env), "trust anchors").decode("utf-8", "replace"))
    cfg = _organisation_config()
    if cfg and cfg.get("trust_anchors"):
        out.append(_read_bytes(Path(cfg["trust_anchors"]), "trust anchors").decode("utf-8", "replace"))
    return out


def signing_identity() -> SigningIdentity:
    """The identity exports are signed with: the environment's, else organisation.json's, else the local one."""
    cert, key = os.environ.get(CERT_ENV), os.environ.get(KEY_ENV)
    if cert or key:
        if not (cert and key):
            raise CredentialsError(f"Set both {CERT_ENV} and {KEY_ENV} (the certificate chain and its key), "
                                   "or neither.")
        return _identity(_read_bytes(Path(cert), "signing certificate"), _read_bytes(Path(key), "signing key"),
                         source="environment", tsa_url=os.environ.get(TSA_ENV), alg=os.environ.get(ALG_ENV),
                         extra_anchors=_configured_anchors())
    cfg = _organisation_config()
    if cfg and cfg.get("cert") and cfg.get("key"):
        return _identity(_read_bytes(Path(cfg["cert"]), "signing certificate"),
                         _read_bytes(Path(cfg["key"]), "signing key"), source=ORGANISATION_FILE,
                         tsa_url=os.environ.get(TSA_ENV) or cfg.get("tsa_url"), alg=cfg.get("alg"),
                         extra_anchors=_configured_anchors())
    ident = local_identity()
    tsa = os.environ.get(TSA_ENV)
    return ident if not tsa else dataclasses.replace(ident, tsa_url=tsa)


def trust_anchors() -> str:
    """The PEM anchors verification trusts: the local CA (made on first use) and the configured ones."""
    local = (_ensure_local() / "ca.pem").read_text(encoding="utf-8")
    return "\n".join([local, *_configured_anchors()])


def use_organisation_identity(cert: str | Path, key: str | Path, *, tsa_url: str | None = None,
                              trust_anchors_file: str | Path | None = None) -> SigningIdentity:
    """Sign with an organisation's certificate from now on: test-sign a small image with it (so a wrong key,
    a self-signed certificate or an unreachable timestamp authority fail here, not at an export), then
    record the paths in ``organisation.json`` (atomically)."""
    from generec_desktop.safefiles import atomic_write_json

    cert_p, key_p = Path(cert).expanduser().resolve(), Path(key).expanduser().resolve()
    anchors = [_read_bytes(Path(trust_anchors_file), "trust anchors").decode("utf-8", "replace")] \
        if trust_anchors_file else []
    ident = _identity(_read_bytes(cert_p, "signing certificate"), _read_bytes(key_p, "signing key"),
                      source=ORGANISATION_FILE, tsa_url=tsa_url, alg=None, extra_anchors=anchors)
    _test_sign(ident)
    folder = identity_dir()
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"cert": str(cert_p), "key": str(key_p), "tsa_url": tsa_url or None, "alg": ident.alg}
    if trust_anchors_file:
        data["trust_anchors"] = str(Path(trust_anchors_file).expanduser().resolve())
    atomic_write_json(folder / ORGANISATION_FILE, data)
    return ident


def forget_organisation_identity() -> bool:
    """Go back to the local identity (removes organisation.json; the certificate files are left alone)."""
    path = identity_dir() / ORGANISATION_FILE
    if path.is_file():
        path.unlink()
        return True
    return False


def _test_sign(ident: SigningIdentity) -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (128, 128, 128)).save(buf, format="PNG")
    spec = ManifestSpec(kind="ai_created", title="identity test", operation="create")
    c2pa = _c2pa()
    try:
        with c2pa.Builder(build_definition(spec, "image/png"), _context(ident.trust_pem)) as b, _signer(ident) as s:
            b.set_intent(c2pa.C2paBuilderIntent.CREATE, c2pa.C2paDigitalSourceType.TRAINED_ALGORITHMIC_MEDIA)
            buf.seek(0)
            b.sign(s, "image/png", buf, io.BytesIO())
    except c2pa.C2paError as exc:
        raise CredentialsError(f"A test signature with {ident.subject} failed ({_short(exc)}); check that the key "
                               "belongs to the certificate and the timestamp authority is reachable.") from exc


# ------------------------------------------------------------------------------------ the manifest


@dataclass(frozen=True)
class ManifestSpec:
    """What a manifest says about one output file."""

    kind: str  # ai_created | ai_edited | human
    title: str
    operation: str  # an editor operation (style, clip, create, ...) or "render" / "artwork"
    params: dict[str, Any] = field(default_factory=dict)
    generator: str | None = None
    models: list[dict[str, Any]] = field(default_factory=list)
    parent: Path | None = None  # the original (an ingredient); None for a creation
    parent_title: str | None = None
    parent_sha256: str | None = None
    target_audience: dict[str, Any] | None = None  # {"id": ..., "name": ...}
    fidelity: dict[str, Any] | None = None
    watermark_payload: int | None = None
    extra_actions: list[dict[str, Any]] = field(default_factory=list)  # after the operation's (render, export)
    provenance: dict[str, Any] | None = None  # our own manifest's summary (version id, author, owner, ...)


def _jsonable(value: Any) -> Any:
    """A plain JSON value: NaN/inf become null (JSON readers of the manifest choke on them), odd types text."""
    import math

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return clean(json.loads(json.dumps(value, default=str)))


def actions_for(spec: ManifestSpec) -> list[dict[str, Any]]:
    """The C2PA actions of ``spec`` (the SDK puts ``c2pa.opened`` of the parent before them for an edit).

    ``operation`` ``"render"`` adds no action of its own (a render's resize/crop/transcode come in
    ``extra_actions``); the first action of AI content carries its ``digitalSourceType`` either way."""
    source_type = DIGITAL_SOURCE.get(spec.kind)
    if spec.kind == "ai_created" and spec.parent is not None:
        source_type = DIGITAL_SOURCE["ai_created"]  # AI-made media further edited: still wholly AI-made
    agent = {"name": spec.generator or GENERATOR_NAME}
    models = [m.get("id") for m in spec.models if isinstance(m, dict) and m.get("id")]
    params: dict[str, Any] = {"generec.operation": spec.operation, **_jsonable(spec.params or {})}
    if models:
        params["generec.models"] = models
    out: list[dict[str, Any]] = []
    if spec.kind == "ai_created" and spec.parent is None:
        words = {"create": "generated by a video diffusion model (MCVD)"}.get(
            spec.operation, _OPERATION_ACTIONS.get(spec.operation, ("", "generated by a generative model"))[1])
        out.append({"action": "c2pa.created", "digitalSourceType": source_type, "softwareAgent": agent,
                    "parameters": params, "description": words})
    elif spec.operation != "render":
        action, words = _OPERATION_ACTIONS.get(spec.operation, _OPERATION_ACTIONS["edit"])
        act: dict[str, Any] = {"action": action, "softwareAgent": agent, "parameters": params, "description": words}
        if source_type:
            act["digitalSourceType"] = source_type
        out.append(act)
        crop = (spec.params or {}).get("crop")
        if crop and action != "c2pa.cropped":
            out.append({"action": "c2pa.cropped", "softwareAgent": agent, "description": "reframed to a new shape",
                        **({"digitalSourceType": source_type} if source_type else {})})
    for extra in spec.extra_actions:
        act = {"softwareAgent": {"name": GENERATOR_NAME}, **_jsonable(extra)}
        if source_type and not out:
            act.setdefault("digitalSourceType", source_type)
        out.append(act)
    if spec.watermark_payload is not None:
        out.append({"action": "c2pa.watermarked", "softwareAgent": {"name": GENERATOR_NAME},
                    "parameters": {"alg": SOFT_BINDING_ALG, "payload": f"{spec.watermark_payload:08x}"},
                    "description": f"mark {spec.watermark_payload:08x}, a soft binding to these credentials",
                    **({"digitalSourceType": source_type} if source_type and not out else {})})
    return out


def build_definition(spec: ManifestSpec, fmt: str) -> dict[str, Any]:
    """The manifest definition the SDK's Builder takes (assertions in C2PA's JSON form)."""
    from generec_desktop import __version__

    assertions: list[dict[str, Any]] = [{"label": "c2pa.actions", "data": {"actions": actions_for(spec)}}]
    if spec.target_audience:
        assertions.append({"label": "org.generec.audience", "data": _jsonable(spec.target_audience)})
    if spec.fidelity is not None:
        assertions.append({"label": "org.generec.fidelity", "data": _jsonable(spec.fidelity)})
    if spec.provenance:
        assertions.append({"label": "org.generec.provenance", "data": _jsonable(spec.provenance)})
    if spec.watermark_payload is not None:
        value = base64.b64encode(int(spec.watermark_payload).to_bytes(4, "big")).decode("ascii")
        assertions.append({"label": "c2pa.soft-binding", "data": {
            "alg": SOFT_BINDING_ALG, "blocks": [{"scope": {}, "value": value}], "pad": [0, 0],
            "name": "GeneRec invisible watermark (32-bit payload, per installation key)"}})
    return {"claim_generator_info": [{"name": GENERATOR_NAME, "version": __version__}], "title": spec.title,
            "format": fmt, "assertions": assertions}


def audience_ref(ws: Workspace, audience_id: str | None) -> dict[str, Any] | None:
    """A target audience as the credentials name it: its id and the name a person reads ("Segment 2")."""
    if not audience_id:
        return None
    from generec_desktop.profiles.service import describe_audience

    try:
        name = describe_audience(ws, audience_id)
    except GenerecError:
        name = audience_id
    return {"id": audience_id, "name": name}


def mime_type(path: Path) -> str:
    """The MIME type C2PA signs ``path`` as; :class:`CredentialsError` for a format it cannot carry."""
    mt = _MIME.get(Path(path).suffix.lower())
    if mt is None:
        raise CredentialsError(f"{Path(path).name}: Content Credentials can be embedded in MP4/MOV videos and "
                               "JPEG/PNG/WebP/TIFF/AVIF/HEIC images, not in this format.")
    return mt


# ------------------------------------------------------------------------------------ signing


@dataclass(frozen=True)
class SignResult:
    """What :func:`sign_file` did: bytes added, time taken, who signed, the ingredient mode."""

    path: Path
    manifest_bytes: int
    bytes_added: int
    seconds: float
    signer: str
    identity_source: str
    ingredient: str  # "stream" (the original read by the SDK) | "described" | "self" (an outside file) | "none"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {"manifest_bytes": self.manifest_bytes, "bytes_added": self.bytes_added,
                "sign_seconds": round(self.seconds, 4), "signer": self.signer,
                "identity": self.identity_source, "ingredient": self.ingredient}


def _c2pa() -> Any:
    try:
        import c2pa
    except ImportError as exc:  # a core dependency; only a broken installation lands here
        raise CredentialsError("The C2PA library is not installed; run `pip install c2pa-python`.") from exc
    return c2pa


def _context(trust_pem: str, *, replace_anchors: bool = False) -> Any:
    c2pa = _c2pa()
    return c2pa.Context.from_dict({
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": True},
        "trust": {("trust_anchors" if replace_anchors else "user_anchors"): trust_pem},
        # no thumbnails: they would add tens of KB to every file and show nothing a player does not
        "builder": {"thumbnail": {"enabled": False},
                    "actions": {"auto_created_action": {"enabled": False}}},
    })


def _signer(ident: SigningIdentity) -> Any:
    c2pa = _c2pa()
    info = c2pa.C2paSignerInfo(alg=ident.alg.encode(), sign_cert=ident.certs_pem, private_key=ident.key_pem,
                               ta_url=ident.tsa_url.encode() if ident.tsa_url else None)
    return c2pa.Signer.from_info(info)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("…" if len(text) > 200 else "")


def _ingredient_json(spec: ManifestSpec, fmt: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if spec.parent_sha256:
        meta["org.generec.sha256"] = spec.parent_sha256
    title = spec.parent_title or (spec.parent.name if spec.parent else "original")
    return {"title": title, "format": fmt, "relationship": "parentOf", "metadata": meta,
            "description": f"the original (sha256 {spec.parent_sha256})" if spec.parent_sha256 else "the original"}


def sign_file(src: str | Path, dst: str | Path, spec: ManifestSpec, *,
              identity: SigningIdentity | None = None) -> SignResult:
    """Write ``src`` with an embedded, signed manifest to the new file ``dst`` (``src`` is only read).

    ``dst`` should be a temporary name the caller renames into place: on any error it is removed and
    :class:`CredentialsError` says why. The manifest is validated by the SDK right after signing.
    """
    c2pa = _c2pa()
    src_p, dst_p = Path(src), Path(dst)
    fmt = mime_type(dst_p if dst_p.suffix else src_p)
    ident = identity or signing_identity()
    t = time.perf_counter()
    mode = "none"
    try:
        with c2pa.Builder(build_definition(spec, fmt), _context(ident.trust_pem)) as builder, _signer(ident) as signer:
            if spec.parent is not None:
                builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
                pfmt = _MIME.get(spec.parent.suffix.lower(), "application/octet-stream")
                try:  # the SDK reads the original: its own credentials (if any) travel with the ingredient
                    with open(spec.parent, "rb") as fh:
                        builder.add_ingredient(_ingredient_json(spec, pfmt), pfmt, fh)
                    mode = "stream"
                except (OSError, c2pa.C2paError):
                    # an original the SDK cannot parse (a damaged or unusual file): described, not read
                    definition = build_definition(spec, fmt)
                    definition["ingredients"] = [_ingredient_json(spec, pfmt)]
                    builder.close()
                    builder = c2pa.Builder(definition, _context(ident.trust_pem))
                    builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
                    mode = "described"
            elif spec.kind == "ai_created":
                builder.set_intent(c2pa.C2paBuilderIntent.CREATE, c2pa.C2paDigitalSourceType.TRAINED_ALGORITHMIC_MEDIA)
            else:
                # not a creation and no original at hand (an outside file): the file itself, as it was before
                # signing, is what was opened (C2PA's c2pa.opened needs a parentOf ingredient)
                from generec_desktop.safefiles import file_sha256

                builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
                with open(src_p, "rb") as fh:
                    builder.add_ingredient({"title": spec.title, "format": fmt, "relationship": "parentOf",
                                            "metadata": {"org.generec.sha256": file_sha256(src_p)},
                                            "description": "this file as it was before it was signed"}, fmt, fh)
                mode = "self"
            with open(src_p, "rb") as s, open(dst_p, "w+b") as d:
                manifest = builder.sign(signer, fmt, s, d)
                d.flush()
                os.fsync(d.fileno())
            builder.close()
    except (OSError, c2pa.C2paError) as exc:
        dst_p.unlink(missing_ok=True)
        raise CredentialsError(f"Signing the Content Credentials of {spec.title} failed ({_short(exc)}); nothing "
                               "was written.") from exc
    except BaseException:
        dst_p.unlink(missing_ok=True)
        raise
    return SignResult(path=dst_p, manifest_bytes=len(manifest), bytes_added=dst_p.stat().st_size - src_p.stat().st_size,
                      seconds=time.perf_counter() - t, signer=ident.subject, identity_source=ident.source,
                      ingredient=mode)


def sign_image(path: str | Path, *, kind: str = "ai_created", operation: str = "artwork",
               parent: str | Path | None = None, parent_title: str | None = None, params: dict[str, Any] | None = None,
               generator: str | None = None, models: list[dict[str, Any]] | None = None,
               target_audience: dict[str, Any] | None = None, fidelity: dict[str, Any] | None = None,
               watermark_payload: int | None = None, title: str | None = None, out: str | Path | None = None,
               identity: SigningIdentity | None = None) -> SignResult:
    """Embed signed Content Credentials in an image (JPEG, PNG, WebP, ...): in place (atomically: a temp
    file beside it, fsync, rename; a failure leaves the image as it was) or into the new file ``out``.

    For artwork (``fidelity/artwork.py``): ``kind`` ``ai_created`` (made from nothing: c2pa.created,
    trainedAlgorithmicMedia) or ``ai_edited`` with ``parent`` (the frame or image it was made from:
    an ingredient with its sha256; compositeWithTrainedAlgorithmicMedia). Sign after the watermark is in.
    """
    from generec_desktop.safefiles import file_sha256, fsync_dir, temp_path

    src = Path(path)
    if not src.is_file():
        raise CredentialsError(f"{src} does not exist or is not a file.")
    dest = Path(out) if out is not None else src
    mime_type(dest)
    if out is not None and (dest.exists() or dest.is_symlink()):
        raise CredentialsError(f"{dest} exists already; choose a new file name.")
    if kind not in ("ai_created", "ai_edited", "human"):
        raise CredentialsError("kind is ai_created, ai_edited or human.")
    par = Path(parent) if parent is not None else None
    if par is not None and not par.is_file():
        raise CredentialsError(f"The original {par} does not exist or is not a file.")
    if kind == "ai_edited" and par is None:
        raise CredentialsError("An ai_edited image needs the original it was made from (parent=).")
    spec = ManifestSpec(kind=kind, title=title or dest.name, operation=operation, params=params or {},
                        generator=generator, models=models or [], parent=par,
                        parent_title=parent_title or (par.name if par else None),
                        parent_sha256=file_sha256(par) if par is not None else None, target_audience=target_audience,
                        fidelity=fidelity, watermark_payload=watermark_payload)
    stage = temp_path(dest.parent, dest.suffix)
    try:
        res = sign_file(src, stage, spec, identity=identity)
        if out is not None:
            try:
                os.link(stage, dest)  # create-if-absent, atomically
            except FileExistsError:
                raise CredentialsError(f"{dest} exists already; choose a new file name.") from None
            except OSError:
                os.replace(stage, dest)
        else:
            os.replace(stage, dest)
        fsync_dir(dest.parent)
    finally:
        stage.unlink(missing_ok=True)
    return dataclasses.replace(res, path=dest)


# ------------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Credentials:
    """What a file's Content Credentials say, validated offline (see :func:`read_credentials`)."""

    file: Path
    state: str  # "trusted" | "valid" (intact, unknown signer) | "invalid" | "none" | "unreadable"
    signer: str | None = None
    issuer: str | None = None
    signed_at: str | None = None
    generator: str | None = None
    title: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    ingredients: list[dict[str, Any]] = field(default_factory=list)
    audience: dict[str, Any] | None = None
    fidelity: dict[str, Any] | None = None
    provenance: dict[str, Any] | None = None
    watermark_payload: str | None = None
    failures: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    manifest_label: str | None = None

    @property
    def present(self) -> bool:
        """Whether the file carries Content Credentials at all."""
        return self.state not in ("none",)

    @property
    def tampered(self) -> bool:
        """The credentials are there but no longer match the file (or themselves)."""
        return self.state in ("invalid", "unreadable")

    @property
    def digital_source_types(self) -> list[str]:
        """The IPTC digital source types the actions declare (short names)."""
        out = []
        for a in self.actions:
            st = a.get("digitalSourceType")
            if st and st.rsplit("/", 1)[-1] not in out:
                out.append(st.rsplit("/", 1)[-1])
        return out

    def sentences(self) -> list[str]:
        """Who made it, from what, how, and whether it was tampered with, in words."""
        name = self.file.name
        if self.state == "none":
            return [f"{name}: no Content Credentials (no C2PA manifest in the file)."]
        if self.state == "unreadable":
            return [f"{name}: Content Credentials are present but cannot be read ({self.error}): treat the file "
                    "as altered."]
        lines: list[str] = []
        integrity = {"trusted": "intact, signed by a certificate you trust",
                     "valid": "intact, but the signer is not on your trust list",
                     "invalid": "NOT VALID: the file or its credentials changed after signing"}[self.state]
        lines.append(f"{name}: Content Credentials {integrity}.")
        when = f" on {self.signed_at}" if self.signed_at else " (no trusted timestamp)"
        lines.append(f"Who: signed by {self.signer or 'an unnamed signer'}"
                     f"{f', issued by {self.issuer}' if self.issuer else ''}{when}; made with "
                     f"{self.generator or 'an unnamed tool'}"
                     + (f" for {self.provenance['owner']}" if self.provenance and self.provenance.get("owner") else "")
                     + ".")
        if self.ingredients:
            parts = []
            for ing in self.ingredients:
                sha = ing.get("sha256")
                role = {"parentOf": "the original", "componentOf": "a component",
                        "inputTo": "an input"}.get(str(ing.get("relationship")), "an ingredient")
                text = f"{role} \"{ing.get('title') or 'untitled'}\""
                extra = [f"sha256 {sha[:12]}…"] if sha else []
                if ing.get("credentials"):
                    extra.append(f"with its own credentials, {ing['credentials']}")
                parts.append(text + (f" ({'; '.join(extra)})" if extra else ""))
            lines.append("From: " + "; ".join(parts) + ".")
        else:
            lines.append("From: nothing recorded (a creation, not an edit of another file).")
        how = []
        for a in self.actions:
            word = _WORDS.get(str(a.get("action")), str(a.get("action")))
            desc = a.get("description")
            agent = (a.get("softwareAgent") or {}).get("name") if isinstance(a.get("softwareAgent"), dict) else None
            st = str(a.get("digitalSourceType") or "").rsplit("/", 1)[-1]
            piece = word + (f" ({desc})" if desc else "") + (f" by {agent}" if agent else "")
            if st == "trainedAlgorithmicMedia":
                piece += " — made by a trained AI model"
            elif st == "compositeWithTrainedAlgorithmicMedia":
                piece += " — partly made by a trained AI model"
            how.append(piece)
        if how:
            lines.append("How: " + "; ".join(how) + ".")
        if self.audience:
            lines.append(f"For: {self.audience.get('name') or self.audience.get('id')}.")
        if self.fidelity:
            lines.append(f"Fidelity checks at export: {self.fidelity.get('status', 'unknown')}"
                         + (" (overridden, reason recorded)" if self.fidelity.get("override") else "") + ".")
        if self.watermark_payload:
            lines.append(f"Soft binding: the invisible watermark {self.watermark_payload}.")
        if self.failures:
            said = []
            for f in self.failures:
                words = _FAILURE_WORDS.get(f["code"], f.get("explanation") or f["code"])
                if words not in said:
                    said.append(words)
            label = "Problems" if self.state == "invalid" else "Note"
            lines.append(f"{label}: " + "; ".join(said) + ".")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly (``--json``)."""
        return {"state": self.state, "present": self.present, "tampered": self.tampered, "signer": self.signer,
                "issuer": self.issuer, "signed_at": self.signed_at, "generator": self.generator, "title": self.title,
                "digital_source_types": self.digital_source_types, "actions": self.actions,
                "ingredients": self.ingredients, "audience": self.audience, "watermark_payload": self.watermark_payload,
                "failures": self.failures, "error": self.error, "manifest": self.manifest_label}


def _failures(results: dict[str, Any] | None) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for part in ("activeManifest",):
        for f in ((results or {}).get(part) or {}).get("failure") or []:
            out.append({"code": str(f.get("code")), "explanation": str(f.get("explanation") or "")})
    return out


def _ingredient_summary(ing: dict[str, Any], store: dict[str, Any]) -> dict[str, Any]:
    meta = ing.get("metadata") or {}
    out: dict[str, Any] = {"title": ing.get("title"), "format": ing.get("format"),
                           "relationship": ing.get("relationship"), "sha256": meta.get("org.generec.sha256")}
    label = ing.get("active_manifest")
    if label and label in (store.get("manifests") or {}):
        sub = store["manifests"][label]
        sig = sub.get("signature_info") or {}
        out["credentials"] = f"signed by {sig.get('common_name') or 'an unnamed signer'}"
        status = [s.get("code") for s in ing.get("validation_status") or [] if s.get("code")]
        if status:
            out["credentials"] += f" (status: {', '.join(status[:3])})"
    return out


def read_credentials(path: str | Path, *, trust_pem: str | None = None, replace_anchors: bool = False) -> Credentials:
    """Read and validate the Content Credentials of ``path`` offline (no remote manifests, no OCSP).

    ``trust_pem``: the anchors (default :func:`trust_anchors`: the local CA + configured ones), added to the
    SDK's built-in list, or used alone with ``replace_anchors``."""
    c2pa = _c2pa()
    p = Path(path)
    if not p.is_file():
        raise CredentialsError(f"{p} does not exist or is not a file.")
    anchors = trust_pem if trust_pem is not None else trust_anchors()
    try:
        with open(p, "rb") as fh:
            # the format from the name when we know it, else detected from the bytes (None)
            reader = c2pa.Reader.try_create(_MIME.get(p.suffix.lower()), fh,
                                            context=_context(anchors, replace_anchors=replace_anchors))
            if reader is None:
                return Credentials(file=p, state="none")
            with reader:
                store = json.loads(reader.json())
                state = (reader.get_validation_state() or "Invalid").lower()
                results = reader.get_validation_results()
    except c2pa.C2paError as exc:
        text = _short(exc)
        if "JumbfNotFound" in text or "ManifestNotFound" in text or "no JUMBF" in text:
            return Credentials(file=p, state="none")
        if "NotSupported" in text or "UnsupportedType" in text:
            return Credentials(file=p, state="none", error=text)
        return Credentials(file=p, state="unreadable", error=text)
    label = store.get("active_manifest")
    m = (store.get("manifests") or {}).get(label) or {}
    sig = m.get("signature_info") or {}
    actions: list[dict[str, Any]] = []
    audience = fidelity = prov = None
    payload = None
    for a in m.get("assertions") or []:
        lab, data = str(a.get("label", "")), a.get("data") or {}
        if lab.startswith("c2pa.actions"):
            actions.extend(data.get("actions") or [])
        elif lab == "org.generec.audience":
            audience = data
        elif lab == "org.generec.fidelity":
            fidelity = data
        elif lab == "org.generec.provenance":
            prov = data
        elif lab.startswith("c2pa.soft-binding") and data.get("alg") == SOFT_BINDING_ALG:
            with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
                payload = base64.b64decode(data["blocks"][0]["value"]).hex()
    gen = m.get("claim_generator_info") or []
    generator = " ".join(str(x) for x in (gen[0].get("name"), gen[0].get("version")) if x) if gen else \
        m.get("claim_generator")
    failures = _failures(results)
    if state not in ("trusted", "valid", "invalid"):
        state = "invalid"
    return Credentials(file=p, state=state, signer=sig.get("common_name"), issuer=sig.get("issuer"),
                       signed_at=sig.get("time"), generator=generator, title=m.get("title"), actions=actions,
                       ingredients=[_ingredient_summary(i, store) for i in m.get("ingredients") or []],
                       audience=audience, fidelity=fidelity, provenance=prov, watermark_payload=payload,
                       failures=failures, manifest_label=label)
