// Where loopspec finds the files it ships with its code: the rules catalogue,
// the expectations files, the throwaway TLS material and the Python driver.
//
// Promises: a program linked in loopspec's build tree gets the source and
// build trees' copies; a program linked against the installed package
// (find_package(loopspec)) gets the copies under <prefix>/share/loopspec,
// wherever that prefix was moved. The choice is made when the program is
// linked (harness/shipped_data/shipped_data.cpp is compiled into a library of
// the build tree, and into the user's program by the installed package), so
// the same static libraries serve both. Each path is overridden at run time by
// its environment variable (LOOPSPEC_SPEC_DIR, LOOPSPEC_EXPECTATIONS_DIR,
// LOOPSPEC_TLS_DIR, LOOPSPEC_PYTHON_DRIVER), which the users of a path consult
// first.
#pragma once

namespace loopspec {

struct ShippedData {
  const char* spec_dir;          // spec/rules: the catalogue
  const char* expectations_dir;  // conformance/expectations: known deviations per backend
  const char* tls_dir;           // the throwaway certificates (cmake/TlsTestMaterial.cmake)
  const char* python_driver;     // backends/python/loopspec_driver.py
};

const ShippedData& shipped_data();

}  // namespace loopspec
