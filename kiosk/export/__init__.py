"""The delivery package: photos by ID number, index sheets, proof sheets, errata.

Kept light to import (every command checks the settings with :mod:`kiosk.export.fields`);
the PDF and Excel libraries load only when a package is written.
"""
