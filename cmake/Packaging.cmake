# SPDX-License-Identifier: Apache-2.0
# Install layout and the Debian package (CPack DEB). Included from the top-level
# CMakeLists.txt after the targets are defined:
#
#   include(cmake/Packaging.cmake)
#
# Then, from the build directory:  cpack -G DEB   ->  hbfence_<version>_amd64.deb
#
# Layout (Debian 12):
#   /usr/sbin/hbfence                          (src/CMakeLists.txt: install(TARGETS))
#   /lib/systemd/system/hbfence.service        installed disabled, never started
#   /etc/hbfence/hbfence.toml                  conffile; log-only, never armed
#   /var/lib/hbfence/                          state: the fence journal
#   /usr/share/man/man8/hbfence.8.gz
#   /usr/share/hbfence/alerts/*.yml            Prometheus rules, Alertmanager example
#   /usr/share/hbfence/alerts/*.libsonnet      the monitoring mixin they are rendered from
#   /usr/share/hbfence/dashboards/*.json       Grafana dashboards (and their *.libsonnet)
#   /usr/share/doc/hbfence/                    README.md, docs/*.md (runbook),
#                                              copyright (DEP-5), changelog.gz
#
# The unit and the config name /usr/sbin/hbfence, so the install prefix is /usr:
# it is the default of a fresh build directory, and always the prefix of the package
# (CPACK_PACKAGING_INSTALL_PREFIX). /etc, /lib and /var paths are absolute on purpose.

include_guard(GLOBAL)

if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Install prefix (the unit expects /usr/sbin/hbfence)" FORCE)
endif()
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "hbfence: CMAKE_INSTALL_PREFIX is ${CMAKE_INSTALL_PREFIX}; hbfence.service expects "
                 "/usr/sbin/hbfence (the Debian package always uses /usr)")
endif()

set(HBFENCE_PKG_DIR ${PROJECT_SOURCE_DIR}/packaging)

# --- Files -------------------------------------------------------------------------
install(FILES ${HBFENCE_PKG_DIR}/hbfence.service DESTINATION /lib/systemd/system
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${HBFENCE_PKG_DIR}/hbfence.toml DESTINATION /etc/hbfence
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
# An empty state directory; postinst creates it too (a purge removes it).
install(DIRECTORY DESTINATION /var/lib/hbfence
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                              WORLD_READ WORLD_EXECUTE)

# The man page, gzipped reproducibly (-n: no name or timestamp), as Debian wants.
set(HBFENCE_MAN_GZ ${PROJECT_BINARY_DIR}/packaging/hbfence.8.gz)
add_custom_command(
  OUTPUT ${HBFENCE_MAN_GZ}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/packaging
  COMMAND sh -c "gzip -9n < '${HBFENCE_PKG_DIR}/hbfence.8' > '${HBFENCE_MAN_GZ}'"
  DEPENDS ${HBFENCE_PKG_DIR}/hbfence.8
  COMMENT "Compressing hbfence.8"
  VERBATIM)
add_custom_target(hbfence_manpage ALL DEPENDS ${HBFENCE_MAN_GZ})
install(FILES ${HBFENCE_MAN_GZ} DESTINATION share/man/man8)

# Debian policy 12.5 and 12.7: the machine-readable copyright file, and the changelog
# (Debian format) gzipped reproducibly. The package's version has no Debian revision
# (a native package), so its Debian changelog is changelog.gz, not changelog.Debian.gz.
file(STRINGS ${HBFENCE_PKG_DIR}/debian/changelog _hbfence_changelog_top LIMIT_COUNT 1)
if(NOT _hbfence_changelog_top MATCHES "^hbfence \\(${PROJECT_VERSION}\\) ")
  message(WARNING "packaging/debian/changelog starts with '${_hbfence_changelog_top}', not version "
                  "${PROJECT_VERSION}: add an entry for it (dch -v ${PROJECT_VERSION})")
endif()
set(HBFENCE_CHANGELOG_GZ ${PROJECT_BINARY_DIR}/packaging/changelog.gz)
add_custom_command(
  OUTPUT ${HBFENCE_CHANGELOG_GZ}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/packaging
  COMMAND sh -c "gzip -9n < '${HBFENCE_PKG_DIR}/debian/changelog' > '${HBFENCE_CHANGELOG_GZ}'"
  DEPENDS ${HBFENCE_PKG_DIR}/debian/changelog
  COMMENT "Compressing the changelog"
  VERBATIM)
add_custom_target(hbfence_changelog ALL DEPENDS ${HBFENCE_CHANGELOG_GZ})
install(FILES ${HBFENCE_CHANGELOG_GZ} ${HBFENCE_PKG_DIR}/debian/copyright DESTINATION share/doc/hbfence
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# Monitoring content and docs are written alongside this file and may be absent or
# incomplete in a given checkout: directory installs match files at install time
# (not at configure time) and a missing directory is not an error.
# The monitoring mixin's sources (*.libsonnet) go with what they render, so an operator
# can render it with their own settings (alerts/README.md); alerts/mixin.libsonnet
# imports ../dashboards/dashboards.libsonnet.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/alerts/ DESTINATION share/hbfence/alerts OPTIONAL
        FILES_MATCHING PATTERN "*.yml" PATTERN "*.libsonnet" PATTERN "render.jsonnet" PATTERN "tests" EXCLUDE)
# The dashboards as rendered, and the mixin sources they are rendered from (their
# library included: dashboards.libsonnet imports it); not their checks' fixtures.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/dashboards/ DESTINATION share/hbfence/dashboards OPTIONAL
        FILES_MATCHING PATTERN "*.json" PATTERN "*.libsonnet" PATTERN "tests" EXCLUDE)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/hbfence)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION share/doc/hbfence OPTIONAL
        FILES_MATCHING PATTERN "*.md")
# Example configuration for other software (e.g. a TLS-terminating proxy), if any.
install(DIRECTORY ${HBFENCE_PKG_DIR}/ DESTINATION share/doc/hbfence/examples OPTIONAL
        FILES_MATCHING PATTERN "*.conf" PATTERN "debian" EXCLUDE PATTERN "cloudstack" EXCLUDE)
# Drop-ins for CloudStack's KVM heartbeat scripts (docs/cloudstack.md). Installed
# beside hbfence's other files, never over CloudStack's: the operator diverts those.
install(PROGRAMS ${HBFENCE_PKG_DIR}/cloudstack/hbfence-heartbeat.sh ${HBFENCE_PKG_DIR}/cloudstack/kvmheartbeat.sh
                 ${HBFENCE_PKG_DIR}/cloudstack/kvmsmpheartbeat.sh ${HBFENCE_PKG_DIR}/cloudstack/kvmspheartbeat.sh
        DESTINATION share/hbfence/cloudstack)

# --- Debian package -------------------------------------------------------------------
set(HBFENCE_PACKAGE_MAINTAINER "hbfence maintainers <maintainers@users.noreply.h-seed-06100fa0.example>"
    CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hbfence)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${HBFENCE_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "storage heartbeat and self-fencing daemon for KVM hosts")
# The package's prefix is /usr whatever CMAKE_INSTALL_PREFIX this build directory
# has: with CPACK_SET_DESTDIR, CPack installs to DESTDIR + CPACK_INSTALL_PREFIX, which
# would otherwise default to CMAKE_INSTALL_PREFIX (/usr/local in an older build dir).
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
# Absolute destinations (/etc, /lib, /var) go through DESTDIR into the package.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # hbfence_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${HBFENCE_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The Description field is the summary line followed by this text; CPack indents
# every line and turns an empty one into " .".
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "hbfence writes a timestamp to each shared primary storage every interval,
decides when the host has lost its storage for longer than a lease, fences
the host with a configurable action (sysrq hard reboot, graceful reboot,
agent restart, custom script or log-only) and exports write latency,
timeouts, errors and fence decisions for Prometheus.

The packaged configuration is log-only and the service is installed
neither enabled nor started: installing never arms fencing.")
# Runtime dependencies from the ELF's DT_NEEDED entries (dpkg-shlibdeps, dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${HBFENCE_PKG_DIR}/debian/conffiles
    ${HBFENCE_PKG_DIR}/debian/postinst
    ${HBFENCE_PKG_DIR}/debian/prerm
    ${HBFENCE_PKG_DIR}/debian/postrm)
# 0755 for maintainer scripts, 0644 for conffiles, whatever the checkout's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# The package is this build directory's binary: a Debug build is not fortified
# (cmake/DebianBuildFlags.cmake), and lintian would say so.
if(CMAKE_BUILD_TYPE STREQUAL "Debug")
  message(STATUS "hbfence: a package made from this Debug build is not fortified (-D_FORTIFY_SOURCE needs -O); "
                 "package a RelWithDebInfo or Release build")
endif()

include(CPack)
