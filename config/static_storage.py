"""Static files as production serves them: hashed, compressed and, for scripts, minified.

The widget loads on every page of a shop, so its bytes count; rjsmin strips only
comments and whitespace (template literals, such as the widget's CSS, are kept as
written), so what runs is the source as reviewed."""

import rjsmin
from django.core.files.base import ContentFile
from whitenoise.storage import CompressedManifestStaticFilesStorage, CompressedStaticFilesStorage


class _MinifiedScripts:
    def _save(self, name, content):
        if name.endswith(".js"):
            content.seek(0)  # the manifest step hands over a file it has just hashed
            content = ContentFile(rjsmin.jsmin(content.read().decode()).encode())
        return super()._save(name, content)


class MinifiedStaticFilesStorage(_MinifiedScripts, CompressedStaticFilesStorage):
    pass


class MinifiedManifestStaticFilesStorage(_MinifiedScripts, CompressedManifestStaticFilesStorage):
    pass
