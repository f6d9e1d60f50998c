#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# CloudStack's kvmsmpheartbeat.sh, served by hbfence: see hbfence-heartbeat.sh beside this file.
# readlink -f: this wrapper may itself be reached through a symlink from CloudStack's directory.
HBFENCE_CALLED_AS=kvmsmpheartbeat.sh
export HBFENCE_CALLED_AS
exec "$(dirname "$(readlink -f "$0")")/hbfence-heartbeat.sh" "$@"
