# SPDX-License-Identifier: ISC
# The SELinux module without an SELinux kernel (issue 16): it links into
# Debian's reference policy (a copy of the installed store in the build tree,
# semodule -n), and sesearch/matchpathcon assertions hold on the result.
# Registered only when selinux/ built the module (BG_SELINUX).
if(BG_SELINUX_MODULE)
  find_program(BG_SESEARCH sesearch)
  find_program(BG_SEMODULE semodule)
  find_program(BG_MATCHPATHCON matchpathcon)
  if(NOT BG_SESEARCH OR NOT BG_SEMODULE OR NOT BG_MATCHPATHCON)
    message(FATAL_ERROR "the SELinux tests need sesearch, semodule and matchpathcon "
                        "(apt-get install setools policycoreutils selinux-utils selinux-policy-default)")
  endif()
  set(root ${CMAKE_BINARY_DIR}/selinux/linked)
  set(policy_dir ${root}/etc/selinux/default)
  add_test(NAME selinux_module_links_into_the_reference_policy
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/selinux/link_module.sh ${BG_SELINUX_MODULE} ${root})
  set_tests_properties(selinux_module_links_into_the_reference_policy PROPERTIES
    FIXTURES_SETUP selinux_linked RESOURCE_LOCK selinux_linked TIMEOUT 600)
  foreach(check IN ITEMS entry state connect capability secrets)
    set(name selinux_policy_${check})
    add_test(NAME ${name}
      COMMAND sh -c "exec \"$0\" \"$1\"/policy/policy.* \"$2\" \"$3\""
              ${CMAKE_CURRENT_LIST_DIR}/selinux/check_policy.sh ${policy_dir} ${check}
              ${PROJECT_SOURCE_DIR}/systemd/breakglassd.service.in)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED selinux_linked RESOURCE_LOCK selinux_linked)
    list(APPEND selinux_tests ${name})
  endforeach()
  add_test(NAME selinux_every_installed_path_is_labelled
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/selinux/check_file_contexts.sh ${PROJECT_SOURCE_DIR}
            ${policy_dir}/contexts/files/file_contexts)
  set_tests_properties(selinux_every_installed_path_is_labelled PROPERTIES
    FIXTURES_REQUIRED selinux_linked RESOURCE_LOCK selinux_linked)
  add_test(NAME selinux_checks_refuse_a_broken_module
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/selinux/selftest.sh ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/selinux/selftest)
  set_tests_properties(selinux_checks_refuse_a_broken_module PROPERTIES TIMEOUT 900)
  set_tests_properties(selinux_module_links_into_the_reference_policy ${selinux_tests}
    selinux_every_installed_path_is_labelled selinux_checks_refuse_a_broken_module PROPERTIES LABELS selinux)
endif()
