"""What the instructor knows about words: prototype phrases, keywords and style synonyms.

Prototype phrases are what the MiniLM model compares an instruction with (one embedding each,
computed once); keywords are what the fallback counts when the model is absent, and they also
give the model a small boost. Both are plain data so they can be extended without touching logic.
"""

from __future__ import annotations

#: The operations a plan can ask for; "nothing" means the generator is not started.
OPERATIONS = ("thumbnail", "clip", "style", "revise", "create", "nothing")

#: Classes the matcher scores: the five generating operations, requests the app cannot serve
#: ("unsupported") and explicit requests to leave the item alone ("keep"); both of the latter
#: become operation "nothing".
PROTOTYPES: dict[str, list[str]] = {
    "thumbnail": [
        "pick a better thumbnail", "choose the cover image", "change the thumbnail",
        "select the best frame as the cover", "personalise the thumbnail for this audience",
        "which frame should be the poster image", "a new preview picture for the video",
        "make the cover more clickable", "update the cover art",
    ],
    "clip": [
        "cut a short clip", "trim the video to the best part", "make a short teaser",
        "shorten the video", "extract a highlight", "a highlight reel of the best moments",
        "keep only the most interesting seconds", "make a shorter version of the video",
        "a ten second excerpt", "cut it down to the part they would like most",
    ],
    "style": [
        "make it look like a cartoon", "apply a visual style filter", "restyle the video",
        "change the look of the video", "give it an artistic look", "colour grade the video",
        "make it look like a painting", "turn it black and white", "give it a retro film look",
        "apply an art filter to the footage",
    ],
    "revise": [
        "revise the video with the AI model", "rework the footage toward their taste",
        "adapt this video to the audience with the diffusion model", "regenerate the frames",
        "edit the video with AI so they like it more", "let the AI touch up the video for them",
        "modify the existing video to match their preferences", "an AI revised version of this video",
    ],
    "create": [
        "create a brand new video", "generate a completely new video from scratch",
        "make an original AI video for them", "none of the existing videos fit, generate a new one",
        "generate fresh content for this audience", "produce a new item with the AI creator",
    ],
    "unsupported": [
        "upload it to TikTok", "post this on Instagram", "share it on YouTube", "publish the video online",
        "add music by a famous artist", "add a soundtrack", "change the song", "add background music",
        "add subtitles", "translate the voiceover", "add captions and text", "delete this video",
        "how many views will this get", "reply to the comments", "schedule the post for tonight",
        "buy ads for this video", "write a title and hashtags",
    ],
    "keep": [
        "leave the video as it is", "don't change anything", "do nothing for now", "keep the original",
        "no edits please", "it is fine as it is",
    ],
}

#: Keywords (after typo correction) per class; a hit outside a negation counts one vote.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "thumbnail": ("thumbnail", "thumbnails", "thumb", "cover", "covers", "poster", "frame", "still",
                  "image", "picture", "pic"),
    "clip": ("clip", "clips", "cut", "trim", "shorten", "shorter", "short", "teaser", "highlight",
             "highlights", "excerpt", "snippet", "reel", "extract", "trailer", "seconds", "second"),
    "style": ("style", "styled", "restyle", "stylise", "stylize", "look", "filter", "grade", "grading",
              "aesthetic", "effect", "painted", "art", "artistic"),
    "revise": ("revise", "revision", "rework", "regenerate", "adapt", "diffusion", "mcvd", "touch",
               "modify", "refine", "revised"),
    "create": ("create", "new", "scratch", "original", "fresh", "generate", "brand", "produce"),
    "unsupported": ("upload", "post", "publish", "tiktok", "youtube", "instagram", "facebook", "twitter",
                    "share", "music", "song", "songs", "soundtrack", "audio", "voiceover", "voice", "sound",
                    "subtitles", "subtitle", "captions", "caption", "translate", "delete", "views",
                    "comments", "schedule", "hashtags", "ads", "advert", "monetise", "monetize", "title"),
    "keep": ("leave", "unchanged", "nothing", "as-is", "asis"),
}

#: Why an unsupported request cannot be served, by the keyword that revealed it.
UNSUPPORTED_REASONS: dict[str, str] = {
    "platform": "GeneRec Desktop exports versions into the workspace's item corpus; it does not upload or "
                "post to other platforms.",
    "audio": "The editor keeps the video's own audio; adding or changing music, songs or voice is not supported.",
    "text": "Adding subtitles, captions, titles or translations is not supported.",
    "delete": "Deleting items is done in the library, not through an instruction.",
    "analytics": "The instructor plans edits; it does not predict views or manage comments, ads or schedules.",
}
UNSUPPORTED_KIND: dict[str, str] = {
    **dict.fromkeys(("upload", "post", "publish", "tiktok", "youtube", "instagram", "facebook", "twitter",
                     "share"), "platform"),
    **dict.fromkeys(("music", "song", "songs", "soundtrack", "audio", "voiceover", "voice", "sound"), "audio"),
    **dict.fromkeys(("subtitles", "subtitle", "captions", "caption", "translate", "title", "hashtags"), "text"),
    "delete": "delete",
    **dict.fromkeys(("views", "comments", "schedule", "ads", "advert", "monetise", "monetize"), "analytics"),
}
#: Same, for the nearest unsupported prototype when the model decided.
PROTOTYPE_KIND: dict[str, str] = {
    "upload it to TikTok": "platform", "post this on Instagram": "platform", "share it on YouTube": "platform",
    "publish the video online": "platform", "add music by a famous artist": "audio", "add a soundtrack": "audio",
    "change the song": "audio", "add background music": "audio", "add subtitles": "text",
    "translate the voiceover": "text", "add captions and text": "text", "delete this video": "delete",
    "how many views will this get": "analytics", "reply to the comments": "analytics",
    "schedule the post for tonight": "analytics", "buy ads for this video": "analytics",
    "write a title and hashtags": "text",
}

#: Synonyms per style name of ``generec_desktop.editor.styles.stylize`` (phrases; matched as whole words).
STYLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "toon": ("toon", "cartoon", "cartoony", "cartoonish", "animated", "animation", "anime", "cel shaded",
             "pixar"),
    "pencil": ("pencil", "sketch", "sketched", "sketchy", "drawing", "drawn", "hand drawn", "graphite",
               "charcoal"),
    "watercolour": ("watercolour", "watercolor", "watercolours", "watercolors", "aquarelle", "wash"),
    "oil": ("oil", "oil painting", "painting", "painterly", "canvas", "brush strokes", "van gogh", "impressionist",
            "painted"),
    "comic": ("comic", "comics", "comic book", "halftone", "pop art", "manga", "marvel", "graphic novel"),
    "pixel": ("pixel", "pixels", "pixel_art", "pixelated", "pixelart", "8-bit", "8bit", "16-bit", "retro game",
              "video game", "minecraft"),
    "vintage": ("vintage", "old film", "retro", "faded", "nostalgic", "70s", "1970s", "80s", "super 8",
                "film grain", "grainy", "polaroid", "sepia", "old photograph"),
    "noir": ("noir", "black_and_white", "monochrome", "greyscale", "grayscale", "detective", "b&w"),
    "teal-orange": ("teal_orange", "teal", "cinematic", "hollywood", "blockbuster", "movie look"),
    # "personal" never votes for the style operation (its words also describe revisions); it is
    # chosen when the plan is a style and these words, or no other style, appear.
    "personal": ("personal", "personalised", "personalized", "what they like", "their liked", "liked thumbnails",
                 "likes", "their taste", "their colours", "their colors"),
}
#: Prototype sentences per style for the model (added to the synonyms and the editor's description).
STYLE_PROTOTYPES: dict[str, tuple[str, ...]] = {
    "toon": ("make it look like a cartoon", "an animated cartoon look"),
    "pencil": ("a pencil sketch drawing", "make it look hand drawn"),
    "watercolour": ("a soft watercolour painting", "watercolor wash effect"),
    "oil": ("an oil painting on canvas", "painterly brush strokes"),
    "comic": ("a comic book with halftone dots", "pop art comic style"),
    "pixel": ("retro 8-bit pixel art video game", "pixelated look"),
    "vintage": ("an old faded vintage film", "a nostalgic 1970s photograph"),
    "noir": ("black and white film noir", "a monochrome detective movie"),
    "teal-orange": ("a cinematic hollywood teal and orange colour grade", "blockbuster movie colours"),
    "personal": ("colours toward what the audience likes", "a grade based on their liked thumbnails"),
}
#: When a style is softened ("not too cartoonish") the plan lowers its strength; these are the
#: calmer alternatives named in the explanation.
CALMER_STYLE: dict[str, str] = {"toon": "watercolour", "comic": "pencil", "noir": "vintage", "pixel": "vintage"}

#: Names used when ``generec_desktop.editor.styles.stylize`` cannot be imported.
FALLBACK_STYLES = ("toon", "pencil", "watercolour", "oil", "comic", "pixel", "vintage", "noir", "teal-orange",
                   "personal")

#: Multi-word phrases joined into one token before anything else.
PHRASES: dict[str, str] = {
    "black and white": "black_and_white", "black & white": "black_and_white", "b&w": "black_and_white",
    "b/w": "black_and_white", "teal and orange": "teal_orange", "teal & orange": "teal_orange",
    "teal-orange": "teal_orange", "pixel art": "pixel_art", "as is": "as-is", "as it is": "as-is",
    "from scratch": "scratch", "brand new": "brand new",
}

#: Delivery requests (paper §3.4 task 2).
DIRECT_CUES = ("directly", "straight to", "straight into", "skip the ranking", "bypass the ranking",
               "right away to", "push it to", "show it to them", "show it to him", "show it to her",
               "recommend it to them", "in their feed", "into their feed", "to their feed")
RANK_CUES = ("rank it", "ranked", "ranking with", "compete", "competes", "alongside", "mix it with",
             "with the human", "with the other videos", "into the corpus", "in the corpus", "catalogue", "catalog")

#: Strength words (style strength or revision strength).
SOFT_WORDS = ("subtle", "subtly", "slight", "slightly", "a bit", "a little", "light", "lightly", "gentle",
              "gently", "hint of", "touch of", "mild", "mildly", "soft")
STRONG_WORDS = ("strong", "strongly", "heavy", "heavily", "very", "full", "fully", "maximum", "max", "intense",
                "bold", "extreme", "dramatic")

#: Words the audience matcher ignores when comparing a phrase with audience labels.
AUDIENCE_FILLER = {"the", "a", "an", "segment", "segments", "audience", "audiences", "group", "people", "crowd",
                   "viewers", "users", "user", "fans", "lovers", "folks", "and", "&", "of", "who", "like", "likes",
                   "them", "their", "our", "my", "in", "with", "all", "it", "this", "that", "more", "most",
                   "would", "will", "each", "every", "one", "please"}
EVERYONE_CUES = ("everyone", "everybody", "all audiences", "all segments", "every segment", "all users",
                 "each audience", "every audience", "each segment", "all of them", "all viewers", "every user")

#: Common words never "corrected" into a keyword when the model's word list is not available.
COMMON_WORDS = {
    "make", "made", "give", "want", "would", "could", "should", "like", "more", "less", "than", "then", "with",
    "without", "that", "this", "these", "those", "them", "they", "their", "there", "from", "into", "onto",
    "just", "only", "also", "some", "very", "much", "what", "which", "when", "where", "please", "thanks",
    "best", "most", "part", "parts", "version", "video", "videos", "movie", "time", "have", "keep", "kept",
    "look", "looks", "feel", "feels", "show", "shows", "over", "under", "about", "around", "everyone", "user",
    "users", "segment", "fans", "teen", "teens", "half", "minute", "minutes", "first", "last", "next", "frames",
    "change", "turn", "apply", "pick", "choose", "select", "faces", "face", "people", "cooks", "travel", "sports",
    "gamers", "gaming", "cooking", "home", "nature", "lovers", "good", "nice", "great", "better", "bright",
    "dark", "colour", "color", "colours", "colors", "tonight", "today", "english", "spanish", "french",
}
