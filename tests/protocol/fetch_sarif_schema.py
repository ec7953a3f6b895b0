"""Fetches the SARIF 2.1.0 JSON schema for test_check_formats.py.

The schema comes with npm's @microsoft/jest-sarif (MIT), the package that
validates SARIF logs in Microsoft's own tests; the tarball is checked
against the registry's SHA-1 before it is read.

    python fetch_sarif_schema.py DEST.json
"""

import hashlib
import io
import sys
import tarfile
import urllib.request

TARBALL = "https://registry.npmjs.org/@microsoft/jest-sarif/-/jest-sarif-1.0.0-beta.0.tgz"
SHA1 = "bf817c5931635bd90274c4eb20aad7db1ac17601"
MEMBER = "package/lib/schemas/sarif-2.1.0-rtm.5.json"


def main(dest: str) -> None:
    with urllib.request.urlopen(TARBALL, timeout=60) as response:
        data = response.read()
    digest = hashlib.sha1(data).hexdigest()
    if digest != SHA1:
        sys.exit(f"{TARBALL}: SHA-1 {digest}, expected {SHA1}")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        member = archive.extractfile(MEMBER)
        if member is None:
            sys.exit(f"{MEMBER} is not in {TARBALL}")
        schema = member.read()
    with open(dest, "wb") as out:
        out.write(schema)


if __name__ == "__main__":
    main(sys.argv[1])
