# SPDX-License-Identifier: Apache-2.0
# cmake -DFUZZER=BIN -DDIR=DIR -P replay.cmake: runs BIN once on every file in DIR
# (libFuzzer runs file arguments once each and exits non-zero on a crash). An empty
# or missing DIR passes.
file(GLOB inputs LIST_DIRECTORIES false "${DIR}/*")
list(FILTER inputs EXCLUDE REGEX "/(README[^/]*|\\.[^/]*)$")
if(NOT inputs)
  message(STATUS "no inputs in ${DIR}")
  return()
endif()
list(LENGTH inputs n)
execute_process(COMMAND ${FUZZER} -runs=1 ${inputs} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${rc}) on an input in ${DIR}")
endif()
message(STATUS "${n} inputs from ${DIR} ran clean")
