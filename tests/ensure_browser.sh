#!/bin/sh
# Make a headless Chromium available for the report's browser test (tests/test_report.py).
# Installs the Debian package `chromium` with apt-get where it is missing and we are root with apt;
# quiet; exits 0 either way (the test skips, with its reason, when no browser can be had).
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_browser.sh: chromium missing and cannot be installed here (needs root and apt-get); the browser test will skip" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1
    apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 ||
        echo "ensure_browser.sh: apt-get could not install chromium; the browser test will skip" >&2
fi
exit 0
