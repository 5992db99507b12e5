#!/bin/sh
# make lint: formatting (clang-format) and static analysis (cppcheck).
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' | grep -v '^bench/gen/' || true)
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086
clang-format --dry-run -Werror $files
# shellcheck disable=SC2086
cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	--std=c11 -D__GNUC__ -I include -I src --suppress=missingIncludeSystem \
	--suppress=unknownMacro $files
echo "lint: clang-format and cppcheck clean ($(echo $files | wc -w) files)"
