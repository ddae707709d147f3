# TLS capture tests (owned with recorder/tls_capture.* and recorder/redact.*).
# Included by tests/recorder/CMakeLists.txt; usable on its own from tests/CMakeLists.txt.

# Redaction: plain unit tests, no root.
add_executable(tls_redact_test
  ${CMAKE_CURRENT_LIST_DIR}/tls_redact_test.cc
  ${CMAKE_SOURCE_DIR}/recorder/redact.cc)
target_include_directories(tls_redact_test PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(tls_redact_test PRIVATE GTest::gtest GTest::gtest_main)
gtest_discover_tests(tls_redact_test)

# Discovery (ELF, .eh_frame, x86-64 code search, cache): no root, no BPF, no libbpf.
set(tls_discovery_srcs
  ${CMAKE_SOURCE_DIR}/recorder/elf_image.cc
  ${CMAKE_SOURCE_DIR}/recorder/eh_frame.cc
  ${CMAKE_SOURCE_DIR}/recorder/code_scan.cc
  ${CMAKE_SOURCE_DIR}/recorder/tls_discovery.cc)
add_executable(tls_discovery_test ${CMAKE_CURRENT_LIST_DIR}/tls_discovery_test.cc ${tls_discovery_srcs})
target_include_directories(tls_discovery_test PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(tls_discovery_test PRIVATE GTest::gtest GTest::gtest_main)
target_compile_definitions(tls_discovery_test PRIVATE AA_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
gtest_discover_tests(tls_discovery_test DISCOVERY_TIMEOUT 30 PROPERTIES TIMEOUT 300)

# Capture: loads BPF (skips without root). Needs the skeleton of bpf/tls.bpf.c.
if(AA_BPF_OK OR TARGET bpf_skeletons_gen)
  if(TARGET recorder_lib)
    set(tls_capture_deps recorder_lib)
    set(tls_capture_srcs)
  else()
    # recorder_lib not there yet: build the two sources this test needs directly
    set(tls_capture_deps store bpf_skeletons)
    set(tls_capture_srcs ${CMAKE_SOURCE_DIR}/recorder/tls_capture.cc
                         ${CMAKE_SOURCE_DIR}/recorder/redact.cc
                         ${tls_discovery_srcs})
  endif()
  add_executable(tls_capture_test ${CMAKE_CURRENT_LIST_DIR}/tls_capture_test.cc ${tls_capture_srcs})
  target_include_directories(tls_capture_test PRIVATE ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
  target_link_libraries(tls_capture_test PRIVATE ${tls_capture_deps} store bpf_skeletons
                        GTest::gtest GTest::gtest_main)
  target_compile_definitions(tls_capture_test PRIVATE AA_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  if(TARGET traffic)
    # HTTP/2 checks decode the recorded header blocks with the traffic parser
    target_link_libraries(tls_capture_test PRIVATE traffic)
    target_compile_definitions(tls_capture_test PRIVATE AA_HAVE_TRAFFIC=1)
  endif()
  if(TARGET aa-record)
    target_compile_definitions(tls_capture_test PRIVATE AA_RECORD_PATH="$<TARGET_FILE:aa-record>")
    add_dependencies(tls_capture_test aa-record)
  endif()
  gtest_discover_tests(tls_capture_test DISCOVERY_TIMEOUT 30 PROPERTIES TIMEOUT 120)

  # The ELF lookup behind attachment: no root, no BPF.
  add_executable(tls_elf_test ${CMAKE_CURRENT_LIST_DIR}/tls_elf_test.cc ${tls_capture_srcs})
  target_include_directories(tls_elf_test PRIVATE ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
  target_link_libraries(tls_elf_test PRIVATE ${tls_capture_deps} store bpf_skeletons
                        GTest::gtest GTest::gtest_main)
  gtest_discover_tests(tls_elf_test)
else()
  message(STATUS "tls_capture_test skipped: BPF skeletons are not built")
endif()

# Claude Code end to end (root, network namespace, the pinned agents of
# fixtures/agents/install.sh; exit 77 = skipped with the reason printed).
if(TARGET aa-record AND TARGET aa-session)
  add_test(NAME claude_code_e2e
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/claude_code_e2e.sh
                   $<TARGET_FILE:aa-record> $<TARGET_FILE:aa-session>)
  set_tests_properties(claude_code_e2e PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900)
endif()
if(TARGET aa-record AND TARGET aa-session)
  add_test(NAME tls_blind_spot_e2e
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/tls_blind_spot_e2e.sh
                   $<TARGET_FILE:aa-record> $<TARGET_FILE:aa-session>)
  set_tests_properties(tls_blind_spot_e2e PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
