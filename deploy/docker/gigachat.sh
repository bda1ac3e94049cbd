#!/bin/sh
# The operator CLI inside the image: `gigachat <command>` (see `gigachat --help`).
exec node /app/dist/apps/cli/src/main.js "$@"
