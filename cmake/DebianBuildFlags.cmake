# SPDX-License-Identifier: Apache-2.0
# Debian's hardening flags for every target of this build, from dpkg-buildflags
# (dpkg-dev), the way a Debian package build passes them. Included from the top-level
# CMakeLists.txt before any target:
#
#   include(cmake/DebianBuildFlags.cmake)
#
# The .deb is whatever this build directory built (cpack packages it as is), so the
# flags are on in every build where dpkg-buildflags exists: the tested binary is the
# shipped one. -DHBFENCE_DPKG_BUILDFLAGS=OFF turns them off.
#
# Asked for: hardening=+all, i.e. besides Debian's defaults (-D_FORTIFY_SOURCE=2,
# -fstack-protector-strong, -Wformat -Werror=format-security, -Wl,-z,relro, PIE) also
# bindnow (-Wl,-z,now: the GOT is read-only from the start; lintian's
# hardening-no-bindnow). Left to the build type: -O and -g (dpkg-buildflags' "-g -O2"
# are stripped, so Release stays -O3 and Debug -O0). Left out: reproducible's
# -ffile-prefix-map / -fdebug-prefix-map (fixfilepath, fixdebugpath), which would
# rewrite the source paths in debug info and make a development build's gdb look for
# ./src/... instead of the checkout.
#
# -D_FORTIFY_SOURCE needs an optimizing build: at -O0 glibc fortifies nothing and
# warns that it needs -O (an error under HBFENCE_WERROR), so a Debug build gets the
# other flags only. cmake/Packaging.cmake says so when a Debug build is configured.
#
# A file that defines libc functions itself (the tests' nofence_preload wraps open())
# must compile without fortification, as fortified headers define open() inline: it
# does #undef _FORTIFY_SOURCE before its includes.

include_guard(GLOBAL)

option(HBFENCE_DPKG_BUILDFLAGS "Compile and link with Debian's hardening flags (dpkg-buildflags)" ON)
set(HBFENCE_HARDENING_FLAGS "" CACHE INTERNAL "the dpkg-buildflags in effect, for the record")

find_program(HBFENCE_DPKG_BUILDFLAGS_PROGRAM dpkg-buildflags)
if(NOT HBFENCE_DPKG_BUILDFLAGS)
  message(STATUS "hbfence: Debian hardening flags off (HBFENCE_DPKG_BUILDFLAGS=OFF)")
  return()
endif()
if(NOT HBFENCE_DPKG_BUILDFLAGS_PROGRAM)
  message(STATUS "hbfence: no dpkg-buildflags (dpkg-dev): building without Debian's hardening flags")
  return()
endif()

foreach(var CPPFLAGS CFLAGS CXXFLAGS LDFLAGS)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env
            "DEB_BUILD_MAINT_OPTIONS=hardening=+all reproducible=-fixfilepath,-fixdebugpath"
            "DEB_CFLAGS_MAINT_STRIP=-g -O2" "DEB_CXXFLAGS_MAINT_STRIP=-g -O2"
            ${HBFENCE_DPKG_BUILDFLAGS_PROGRAM} --get ${var}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    OUTPUT_VARIABLE _hbfence_flags
    OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _hbfence_rc)
  if(NOT _hbfence_rc EQUAL 0)
    message(FATAL_ERROR "dpkg-buildflags --get ${var} failed (${_hbfence_rc}); -DHBFENCE_DPKG_BUILDFLAGS=OFF builds without")
  endif()
  separate_arguments(_hbfence_flags UNIX_COMMAND "${_hbfence_flags}")
  set(_hbfence_${var} ${_hbfence_flags})
endforeach()

# CPPFLAGS holds -D_FORTIFY_SOURCE=2 (and -Wdate-time): optimizing builds only.
set(_hbfence_optimizing "$<NOT:$<CONFIG:Debug>>")
add_compile_options(
  "$<$<AND:$<COMPILE_LANGUAGE:C,CXX>,${_hbfence_optimizing}>:${_hbfence_CPPFLAGS}>"
  "$<$<COMPILE_LANGUAGE:C>:${_hbfence_CFLAGS}>"
  "$<$<COMPILE_LANGUAGE:CXX>:${_hbfence_CXXFLAGS}>")
add_link_options(${_hbfence_LDFLAGS})

list(JOIN _hbfence_CPPFLAGS " " _cpp)
list(JOIN _hbfence_CXXFLAGS " " _cxx)
list(JOIN _hbfence_LDFLAGS " " _ld)
set(HBFENCE_HARDENING_FLAGS "CPPFLAGS=${_cpp} CXXFLAGS=${_cxx} LDFLAGS=${_ld}" CACHE INTERNAL "")
message(STATUS "hbfence: Debian hardening flags: ${HBFENCE_HARDENING_FLAGS} (CPPFLAGS in optimizing builds only)")
