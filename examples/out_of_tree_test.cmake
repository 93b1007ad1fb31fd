# InstalledPackage.OutOfTreeBackendBuildsAndRuns (ctest): what a loop author
# does with loopspec, done for real. Installs this build into a temporary
# prefix, moves the prefix (the package must not depend on where it was
# installed), builds examples/out-of-tree-backend against it, and runs the
# example's binary: its backend next to the built-in ones, a run whose results
# come from the installed rules, a fault the suite catches, and the installed
# Python driver.
# -D BUILD_DIR=... SOURCE_DIR=... WORK_DIR=... GENERATOR=... CXX=... PYTHON_BACKENDS=ON|OFF
cmake_minimum_required(VERSION 3.25)

function(run_step expected_status what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT status STREQUAL expected_status)
    message(FATAL_ERROR "${what}: exit status ${status}, expected ${expected_status}\n"
                        "command: ${ARGN}\n${out}")
  endif()
  message(STATUS "${what}: exit status ${status} as expected")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
run_step(0 "install" ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/installed-here")
file(RENAME "${WORK_DIR}/installed-here" "${WORK_DIR}/moved-there")
set(prefix "${WORK_DIR}/moved-there")

run_step(0 "configure the example" ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
         -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX})
run_step(0 "build the example" ${CMAKE_COMMAND} --build "${WORK_DIR}/build")
set(binary "${WORK_DIR}/build/example-conformance")

# The caller's overrides would hide a wrong installed location.
foreach(variable LOOPSPEC_SPEC_DIR LOOPSPEC_EXPECTATIONS_DIR LOOPSPEC_TLS_DIR LOOPSPEC_PYTHON_DRIVER)
  unset(ENV{${variable}})
endforeach()

run_step(0 "backends" "${binary}" backends --names)
foreach(name example reference)
  if(NOT step_output MATCHES "(^|\n)${name}\n")
    message(FATAL_ERROR "backends --names lacks ${name}:\n${step_output}")
  endif()
endforeach()

run_step(0 "run --backend example" "${binary}" run --backend example --out "${WORK_DIR}/out" --quiet)
file(READ "${WORK_DIR}/out/results.json" results)
string(JSON passed GET "${results}" summary PASS)
string(JSON unsupported GET "${results}" summary UNSUPPORTED)
string(JSON failed GET "${results}" summary FAIL)
if(passed LESS 40 OR unsupported LESS 10 OR NOT failed EQUAL 0)
  message(FATAL_ERROR "run --backend example: ${passed} PASS, ${unsupported} UNSUPPORTED, ${failed} FAIL; expected "
                      "the stream rules to pass and the others (no udp, pipes, subprocess, tls) to be unsupported")
endif()
message(STATUS "run --backend example: ${passed} PASS, ${unsupported} UNSUPPORTED, ${failed} FAIL")

# A deviation switched on in the example's backend is a finding: exit status 1.
run_step(1 "run --backend example --fault pause-at-high" "${binary}" run --backend example --fault pause-at-high
         --rules "flow.*" --out "${WORK_DIR}/out-fault" --quiet --no-report)

# TLS scenarios of the built-in reference read the installed certificates.
run_step(0 "run --backend reference --scenarios 'tls.*'" "${binary}" run --backend reference --scenarios "tls.*"
         --out "${WORK_DIR}/out-tls" --quiet --no-report)

if(PYTHON_BACKENDS)
  run_step(0 "run --backend python:asyncio (the installed driver)" "${binary}" run --backend python:asyncio
           --scenarios "stream.lifecycle.*" --out "${WORK_DIR}/out-python" --quiet --no-report)
endif()
