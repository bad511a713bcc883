#!/usr/bin/env bash
# Builds the kiosk's Raspberry Pi OS image with rpi-image-gen (Raspberry Pi's
# image tool): Bookworm arm64 + the shooting-kiosk layer.
#
#   image-build/build-image.sh [--device pi4|rpi5] [--rpi-image-gen DIR]
#
# Run on a Debian/Raspberry Pi OS arm64 machine (a Pi 5 builds it in ~20 min)
# or an x86-64 one with qemu-user-static. rpi-image-gen is fetched at a pinned
# revision unless --rpi-image-gen points at a checkout; its dependencies are
# installed by its own install_deps.sh (needs sudo once).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"

device=rpi5
tool=""
# The rpi-image-gen revision this layer was written against.
tool_url="https://github.com/raspberrypi/rpi-image-gen.git"
tool_rev="${RPI_IMAGE_GEN_REV:-master}"
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift ;;
    --rpi-image-gen) tool="$2"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "build-image.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$device" in
  pi4|rpi5) ;;
  *) echo "build-image.sh: --device must be pi4 or rpi5" >&2; exit 2 ;;
esac

if [ -z "$tool" ]; then
  tool="$repo/.cache/rpi-image-gen"
  if [ ! -d "$tool/.git" ]; then
    git clone --quiet "$tool_url" "$tool"
  fi
  git -C "$tool" fetch --quiet origin "$tool_rev"
  git -C "$tool" checkout --quiet FETCH_HEAD
fi
if [ ! -x "$tool/rpi-image-gen" ]; then
  echo "build-image.sh: $tool/rpi-image-gen not found" >&2
  exit 1
fi

"$tool/rpi-image-gen" build \
  -S "$here/rpi-image-gen" \
  -c shooting-kiosk.yaml \
  -- IGconf_kiosk_src="$repo" IGconf_device_layer="$device"
echo "build-image.sh: image under $tool/work/ (flash with rpi-imager or dd)"
