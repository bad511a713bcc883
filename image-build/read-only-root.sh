#!/usr/bin/env bash
# Makes the image's root read-only at boot with overlayroot, leaving the data
# partition (/var/lib/kiosk) writable: run by the image layer after
# install-kiosk.sh.
#
#   image-build/read-only-root.sh ROOT
#
# overlayroot's default recurse=1 would also overlay /var/lib/kiosk, so the
# day's photos would live in RAM and vanish at the next reboot; recurse=0
# overlays the root alone. The crew's way to change the system for good:
# `sudo overlayroot-chroot` (see docs/deployment.md).
set -euo pipefail
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: read-only-root.sh ROOT" >&2
  exit 2
fi
root="$1"
mkdir -p "$root/etc"
cat > "$root/etc/overlayroot.local.conf" <<'CONF'
# Written by image-build/read-only-root.sh: the root is a RAM overlay; the
# data partition is not overlaid (recurse=0), so photos reach the SD card.
overlayroot="tmpfs:recurse=0"
overlayroot_cfgdisk="disabled"
CONF
# The initramfs carries overlayroot; the Pi's firmware loads it when asked.
for config in "$root/boot/firmware/config.txt" "$root/boot/config.txt"; do
  if [ -f "$config" ] && ! grep -q '^auto_initramfs=1' "$config"; then
    echo 'auto_initramfs=1' >> "$config"
  fi
done
echo "read-only-root.sh: overlayroot=tmpfs:recurse=0 in /etc/overlayroot.local.conf"
