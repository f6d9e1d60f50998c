// SPDX-License-Identifier: Apache-2.0

// hbfence scraped by another job: the rules read that job's series only (alerts/README.md).
{ _config+:: { hbfenceSelector: 'job="kvm-hbfence"', runbookURLBase: 'https://wiki.example.com/hbfence/runbook' } }
