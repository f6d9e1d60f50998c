// SPDX-License-Identifier: Apache-2.0

// The disarmed alert turned on for the hosts the scrape config labels fencing="armed"
// (alerts/README.md).
{ _config+:: { fencingDisarmedAlert: true, fencingDisarmedSelector: 'fencing="armed"' } }
