#!/usr/bin/env python
"""Django's command-line utility for Fabrikam Drone Delivery."""

import os
import sys


def main() -> None:
    # A checkout: DEBUG on by default, no secrets needed. The image sets DJANGO_SETTINGS_MODULE
    # to the production settings (Dockerfile), and so does the Helm chart.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrikam.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
