# Turns the report's CSS and JS into a C++ header, so the report is one
# self-contained file whatever directory the binary runs from.
# usage: cmake -DCSS=report.css -DJS=report.js -DOUTPUT=assets.hpp -P embed.cmake
set(delimiter "loopspec_asset")
set(body "// Generated from reports/assets/ by reports/assets/embed.cmake: do not edit.\n#pragma once\n\n#include <string_view>\n\nnamespace loopspec::reports {\n")
foreach(pair "kReportCss;${CSS}" "kReportJs;${JS}")
  list(GET pair 0 name)
  list(GET pair 1 file)
  file(READ "${file}" content)
  string(FIND "${content}" ")${delimiter}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} contains the raw-string delimiter )${delimiter}\"")
  endif()
  string(APPEND body "\ninline constexpr std::string_view ${name} = R\"${delimiter}(${content})${delimiter}\";\n")
endforeach()
string(APPEND body "\n}  // namespace loopspec::reports\n")
file(WRITE "${OUTPUT}.tmp" "${body}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
