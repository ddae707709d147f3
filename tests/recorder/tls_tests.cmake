# TLS capture tests (owned with recorder/tls_capture.*, recorder/tls_discovery.* and
# recorder/redact.*). Included by tests/recorder/CMakeLists.txt when recorder_lib is
# built. Labels: `unit` runs fully without root, `root` needs root to run fully.

# Redaction: plain unit tests, no root.
add_executable(tls_redact_test ${CMAKE_CURRENT_LIST_DIR}/tls_redact_test.cc)
target_link_libraries(tls_redact_test PRIVATE recorder_decode GTest::gtest GTest::gtest_main)
gtest_discover_tests(tls_redact_test PROPERTIES LABELS unit)

# Discovery (ELF, .eh_frame, x86-64 code search, cache): no root, no BPF, no libbpf;
# libcrypto for the cache's digests and MAC, as recorder_lib.
find_package(OpenSSL 3.0 REQUIRED)
add_executable(tls_discovery_test ${CMAKE_CURRENT_LIST_DIR}/tls_discovery_test.cc
  ${CMAKE_SOURCE_DIR}/recorder/elf_image.cc
  ${CMAKE_SOURCE_DIR}/recorder/eh_frame.cc
  ${CMAKE_SOURCE_DIR}/recorder/code_scan.cc
  ${CMAKE_SOURCE_DIR}/recorder/launcher.cc
  ${CMAKE_SOURCE_DIR}/recorder/tls_discovery.cc)
target_include_directories(tls_discovery_test PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(tls_discovery_test PRIVATE store GTest::gtest GTest::gtest_main OpenSSL::Crypto)
target_compile_definitions(tls_discovery_test PRIVATE AA_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
# Runs beside the e2e runs below: discovery reads the file's bytes through a shared
# mapping, which the uprobes those runs put on the same executables do not touch (a
# private mapping got their int3: "0 candidates for SSL_read", see
# DiscoveryTest.UprobesOnTheFileDoNotChangeWhatDiscoveryReads).
# Labelled root: most of it needs none, but some cases skip without root (uprobes via
# perf_event_open, MACed cache entries, acting as another user).
gtest_discover_tests(tls_discovery_test DISCOVERY_TIMEOUT 30 PROPERTIES TIMEOUT 300 LABELS root)

# Joining aws-lc AEAD contexts into connections (rustls): no root.
add_executable(tls_aead_join_test ${CMAKE_CURRENT_LIST_DIR}/tls_aead_join_test.cc)
target_link_libraries(tls_aead_join_test PRIVATE recorder_decode GTest::gtest GTest::gtest_main)
gtest_discover_tests(tls_aead_join_test PROPERTIES LABELS unit)

# Capture: loads BPF and runs aa-record (skips without root).
add_executable(tls_capture_test ${CMAKE_CURRENT_LIST_DIR}/tls_capture_test.cc)
target_include_directories(tls_capture_test PRIVATE ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
target_link_libraries(tls_capture_test PRIVATE recorder_lib store traffic bpf_skeletons
                      GTest::gtest GTest::gtest_main)
target_compile_definitions(tls_capture_test PRIVATE
  AA_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  AA_HAVE_TRAFFIC=1
  AA_RECORD_PATH="$<TARGET_FILE:aa-record>")
add_dependencies(tls_capture_test aa-record)
gtest_discover_tests(tls_capture_test DISCOVERY_TIMEOUT 30 PROPERTIES TIMEOUT 120 LABELS root)

# Images of processes gone before the recorder read /proc/PID: an exec'd file is
# examined only if the file at its path is still the one that ran; a library mapped by
# such a process is examined when mapped again (loads BPF: skips without root).
add_executable(tls_gone_process_test ${CMAKE_CURRENT_LIST_DIR}/tls_gone_process_test.cc)
target_include_directories(tls_gone_process_test PRIVATE ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
target_link_libraries(tls_gone_process_test PRIVATE recorder_lib store GTest::gtest GTest::gtest_main)
gtest_discover_tests(tls_gone_process_test PROPERTIES LABELS root)

# The ELF lookup behind attachment: no root, no BPF.
add_executable(tls_elf_test ${CMAKE_CURRENT_LIST_DIR}/tls_elf_test.cc)
target_include_directories(tls_elf_test PRIVATE ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
target_link_libraries(tls_elf_test PRIVATE recorder_lib store bpf_skeletons
                      GTest::gtest GTest::gtest_main)
gtest_discover_tests(tls_elf_test PROPERTIES LABELS unit)

# An executable that carries OpenSSL inside it (libssl.a and libcrypto.a linked in,
# glibc still shared): the TLS-in-the-executable case, whatever node a machine has
# (Debian 12's node links the system libssl, a nodesource build carries its own).
find_library(AA_LIBSSL_STATIC libssl.a)
find_library(AA_LIBCRYPTO_STATIC libcrypto.a)
if(NOT AA_LIBSSL_STATIC OR NOT AA_LIBCRYPTO_STATIC)
  message(FATAL_ERROR "tests need OpenSSL's static libraries (apt-get install libssl-dev)")
endif()
add_executable(aa_test_tls_static ${CMAKE_SOURCE_DIR}/bench/recorder/tls_loop_client.c)
target_link_libraries(aa_test_tls_static PRIVATE ${AA_LIBSSL_STATIC} ${AA_LIBCRYPTO_STATIC}
                      ${CMAKE_DL_LIBS} pthread)
target_compile_definitions(tls_capture_test PRIVATE
  AA_TEST_TLS_STATIC="$<TARGET_FILE:aa_test_tls_static>")
target_compile_definitions(tls_elf_test PRIVATE
  AA_TEST_TLS_STATIC="$<TARGET_FILE:aa_test_tls_static>")
add_dependencies(tls_capture_test aa_test_tls_static)
add_dependencies(tls_elf_test aa_test_tls_static)

# Real agents end to end (root, network namespace, the pinned agents of
# fixtures/agents/install.sh; exit 77 = skipped with the reason printed).
add_test(NAME claude_code_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/claude_code_e2e.sh
                 $<TARGET_FILE:aa-record> $<TARGET_FILE:aa-session>)
set_tests_properties(claude_code_e2e PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900)
# Claude Code through ANTHROPIC_BASE_URL=http://...: its bytes taken plain from the socket.
add_test(NAME claude_code_plain_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/claude_code_plain_e2e.sh
                 $<TARGET_FILE:aa-record> $<TARGET_FILE:aa-session>)
set_tests_properties(claude_code_plain_e2e PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS root)
add_test(NAME gemini_cli_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/gemini_cli_e2e.sh
                 $<TARGET_FILE:aa-record> $<TARGET_FILE:aa-session>)
set_tests_properties(gemini_cli_e2e PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
add_test(NAME tls_blind_spot_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/tls_blind_spot_e2e.sh
                 $<TARGET_FILE:aa-record> $<TARGET_FILE:aa-session>)
set_tests_properties(tls_blind_spot_e2e PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
add_test(NAME codex_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/codex_e2e.sh
                 $<TARGET_FILE:aa-record> $<TARGET_FILE:aa-session>)
set_tests_properties(codex_e2e PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

# The one test server (fixtures/server/server.js) still answers every recorded request
# of fixtures/apis/*.aas, fixtures/llm/agent.aas and fixtures/replay/a.aas as recorded
# (no root).
add_test(NAME mock_server_answers
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/mock_server_answers.sh $<TARGET_FILE:aa-session>)
set_tests_properties(mock_server_answers PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120 LABELS unit)

# Plain-HTTP capture (bpf/plain_sys.bpf.h): aa-record end to end against the test
# server's plain listener (skips without root).
add_executable(plain_capture_test ${CMAKE_CURRENT_LIST_DIR}/plain_capture_test.cc)
target_include_directories(plain_capture_test PRIVATE ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
target_link_libraries(plain_capture_test PRIVATE store GTest::gtest GTest::gtest_main)
target_compile_definitions(plain_capture_test PRIVATE
  AA_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  AA_RECORD_PATH="$<TARGET_FILE:aa-record>"
  AA_SESSION_PATH="$<TARGET_FILE:aa-session>")
add_dependencies(plain_capture_test aa-record aa-session)
gtest_discover_tests(plain_capture_test DISCOVERY_TIMEOUT 30 PROPERTIES TIMEOUT 120 LABELS root)
