#!/bin/sh
# make lint: clang-format in check mode, and no banned functions (the
# unbounded or error-blind C library calls: sprintf, strcpy, strcat, atoi,
# gets, and their cousins).
set -u
cd "$(dirname "$0")/../.."
files=$(ls include/*.h collector/*.c collector/*.h plugins/*.c tests/unit/*.c tests/unit/*.h \
    tests/fuzz/*.c 2>/dev/null)
status=0
if command -v clang-format >/dev/null 2>&1; then
    if ! clang-format --dry-run --Werror $files 2>/tmp/sonde-lint.$$; then
        head -40 /tmp/sonde-lint.$$
        echo "lint: clang-format differences (run: make format)"
        status=1
    fi
    rm -f /tmp/sonde-lint.$$
else
    echo "lint: clang-format missing (apt-get install clang-format)"
    status=1
fi
banned='\<(sprintf|vsprintf|strcpy|strcat|strncpy|strncat|atoi|atol|atof|gets|strtok|tmpnam|mktemp)[[:space:]]*\('
if grep -nE "$banned" $files; then
    echo "lint: banned function used (see above)"
    status=1
fi
[ $status -eq 0 ] && echo "lint: ok"
exit $status
