#!/usr/bin/env bash
# Fails when an artefact's .text is larger than its bound (issue 15: code
# size stays small). Usage: ci/text-size.sh LABEL MAX_BYTES FILE [MEMBER]
# With MEMBER, FILE is an archive and only its objects whose name contains
# MEMBER are summed (e.g. the `wattledger` object of libwattledger.a, which
# after LTO holds the whole C ABI with the core).
set -euo pipefail
label=$1 max=$2 file=$3 member=${4:-}
if [ -n "$member" ]; then
  # Berkeley format: text data bss dec hex filename; archive members read
  # "obj.o (ex lib.a)".
  text=$(size "$file" | awk -v m="$member" 'NR > 1 && $6 ~ m { t += $1 } END { print t + 0 }')
else
  text=$(size "$file" | awk 'NR == 2 { print $1 }')
fi
if [ "$text" -le 0 ]; then
  echo "$label: no .text found in $file${member:+ (member $member)}" >&2
  exit 1
fi
if [ "$text" -gt "$max" ]; then
  echo "$label: .text is $text bytes, above the bound of $max bytes" >&2
  exit 1
fi
echo "$label: .text $text bytes (bound $max)"
