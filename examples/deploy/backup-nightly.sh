#!/usr/bin/env bash
# Nightly backup of unicas while it serves: a consistent copy (SQLite's online backup),
# compressed, kept 30 days. Run from cron (`15 2 * * * unicas /usr/lib/unicas/backup-nightly.sh`)
# or examples/deploy/unicas-backup.timer. Copy the key file once, to somewhere else: a
# backup without its key file cannot be read, and the key file must not sit beside it.
set -euo pipefail
umask 077
CONFIG=${UNICAS_CONFIG:-/etc/unicas/unicas.toml}
DIR=${UNICAS_BACKUP_DIR:-/var/backups/unicas}
mkdir -p "$DIR"
FILE="$DIR/unicas-$(date +%Y%m%d-%H%M%S).db"
unicas --config "$CONFIG" backup "$FILE"
gzip -9 "$FILE"
find "$DIR" -name 'unicas-*.db.gz' -mtime +30 -delete
