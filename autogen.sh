#!/bin/sh
# autogen.sh: generate ./configure (autoconf, automake, libtool)
set -e
cd "$(dirname "$0")"
mkdir -p m4 config
autoreconf -fi
