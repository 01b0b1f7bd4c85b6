#!/bin/sh
# Installs Debian's chromium for the browser test (e2e/browser_test.go).
# Idempotent: does nothing when /usr/bin/chromium is already there. Never
# downloads a browser from anywhere but Debian's archive.
set -eu

if [ -x /usr/bin/chromium ]; then
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "install-chromium: need root (or sudo) to apt-get install chromium" >&2
		exit 1
	fi
fi

echo "install-chromium: installing Debian's chromium with apt-get" >&2
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core fonts-liberation

if [ ! -x /usr/bin/chromium ]; then
	echo "install-chromium: apt-get finished but /usr/bin/chromium is missing" >&2
	exit 1
fi
/usr/bin/chromium --version >&2 || true
