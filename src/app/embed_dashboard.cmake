# Writes OUT: a C++ file holding IN (the dashboard page) as a byte array, so `triage serve`
# serves it with no files beside the binary.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
set(body "// Generated from src/app/dashboard.html by embed_dashboard.cmake. Do not edit.\n")
string(APPEND body "#include \"app/dashboard.hpp\"\nnamespace triage::app {\nnamespace {\n")
string(APPEND body "const unsigned char kPage[] = {${bytes}};\n}  // namespace\n")
string(APPEND body "std::string_view DashboardHtml() {\n")
string(APPEND body "  return {reinterpret_cast<const char*>(kPage), sizeof kPage};\n}\n")
string(APPEND body "}  // namespace triage::app\n")
file(WRITE ${OUT}.tmp "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
