"""What this process is: DEBUG, the role it serves, its version and where it keeps local data."""

from __future__ import annotations

from pathlib import Path

from fabrikam import roles
from fabrikam.settings import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env.string("FABRIKAM_DATA_DIR", str(BASE_DIR / "var")))

# Its default is the settings module's: `local` turns it on, `production` and `test` leave it off.
DEBUG = env.boolean("DEBUG", False)

FABRIKAM_ROLE = env.string("FABRIKAM_ROLE", roles.ALL)
if FABRIKAM_ROLE != roles.ALL:
    roles.get(FABRIKAM_ROLE)  # fails fast, naming the valid roles
FABRIKAM_VERSION = env.string("FABRIKAM_VERSION", "0.1.0")
