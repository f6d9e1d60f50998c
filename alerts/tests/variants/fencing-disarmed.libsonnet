// SPDX-License-Identifier: Apache-2.0

// The disarmed alert turned on for every host (alerts/README.md).
{ _config+:: { fencingDisarmedAlert: true } }
