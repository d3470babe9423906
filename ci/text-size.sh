#!/usr/bin/env bash
# Fails when an artefact's .text (code only) is larger than its bound (issue 15: code
# size stays small). Usage: ci/text-size.sh LABEL MAX_BYTES FILE [MEMBER]
# With MEMBER, FILE is an archive and only its objects whose name contains
# MEMBER are summed (e.g. the `wattledger` object of libwattledger.a, which
# after LTO holds the whole C ABI with the core).
set -euo pipefail
label=$1 max=$2 file=$3 member=${4:-}
# `size -A` lists sections; .text and .text.* are summed (Berkeley `size`
# would add .rodata and .eh_frame to its "text" column). An archive lists
# each member as "NAME (ex ARCHIVE):" before its sections.
text=$(size -A "$file" | awk -v m="$member" '
  / \(ex / { keep = (m == "" || $1 ~ m); next }
  /^[^ ]+ +:$/ && !/ \(ex / { keep = (m == ""); next }
  keep && $1 ~ /^\.text(\.|$)/ { t += $2 }
  END { print t + 0 }')
if [ "$text" -le 0 ]; then
  echo "$label: no .text found in $file${member:+ (member $member)}" >&2
  exit 1
fi
if [ "$text" -gt "$max" ]; then
  echo "$label: .text is $text bytes, above the bound of $max bytes" >&2
  exit 1
fi
echo "$label: .text $text bytes (bound $max)"
