#!/bin/sh
# The container's entrypoint: runs the server that INVENTORY_SERVER names (server-jwt or
# server-cookie).
#
#   (no arguments) or `serve`  apply pending migrations, then serve (as PID 1, so SIGTERM
#                              reaches the server, which answers the requests in flight and
#                              exits 0)
#   anything else              passed to the binary: `migrate`, `createsuperuser`,
#                              `check --deploy`, `backup PATH`, `seed --products N`, `--help`
set -eu

server="${INVENTORY_SERVER:-server-jwt}"
case "$server" in
  server-jwt | server-cookie) ;;
  *)
    echo "inventory-entrypoint: INVENTORY_SERVER must be server-jwt or server-cookie, not '$server'" >&2
    exit 64
    ;;
esac

if [ "$#" -eq 0 ] || [ "$1" = serve ]; then
  # The server migrates at start too; doing it first, alone, makes a failed migration a clear
  # exit before anything listens.
  "$server" migrate
  exec "$server" serve
fi

exec "$server" "$@"
