# The YubiKey OTP second factor (Yubico OTP mode, validated locally with
# libyubikey) and its token store. Used by breakglassd only.
find_path(YUBIKEY_INCLUDE_DIR yubikey.h)
find_library(YUBIKEY_LIBRARY yubikey)
if(NOT YUBIKEY_INCLUDE_DIR OR NOT YUBIKEY_LIBRARY)
  message(FATAL_ERROR "libyubikey not found (yubikey.h and libyubikey): install libyubikey-dev "
                      "(apt-get install libyubikey-dev), or set YUBIKEY_INCLUDE_DIR and YUBIKEY_LIBRARY")
endif()
add_library(bg_libyubikey UNKNOWN IMPORTED GLOBAL)  # GLOBAL: tests/ links it too
set_target_properties(bg_libyubikey PROPERTIES
  IMPORTED_LOCATION ${YUBIKEY_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${YUBIKEY_INCLUDE_DIR})

add_library(bg_yubikey STATIC
  ${CMAKE_CURRENT_LIST_DIR}/yubikey.cpp
  ${CMAKE_CURRENT_LIST_DIR}/yubikey_store.cpp)
target_include_directories(bg_yubikey PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(bg_yubikey
  PUBLIC bg_common bg_mfa nlohmann_json::nlohmann_json
  PRIVATE bg_libyubikey OpenSSL::Crypto bg_strict)
