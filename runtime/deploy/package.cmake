# Debian packages (`make package`, CPack DEB), issue 17 item 2:
#   weir         the binary and libweir.so.0 it runs on, the plugins,
#                weir@.service, weir(1)
#   libweir-dev  headers, pkg-config, CMake packages, the test driver
# Installed under /usr whatever CMAKE_INSTALL_PREFIX is: the binary finds
# its plugins relative to itself, libweir relative to itself.

# The man page, generated from the tables `weir describe --params` prints.
set(WEIR_MAN ${CMAKE_BINARY_DIR}/weir.1)
add_custom_command(OUTPUT ${WEIR_MAN}
  COMMAND sh ${CMAKE_SOURCE_DIR}/runtime/deploy/weir-man.sh $<TARGET_FILE:weir>
    ${WEIR_PLUGIN_BUILD_DIR} ${CMAKE_SOURCE_DIR}/config/demo.ini > ${WEIR_MAN}
  DEPENDS weir plugin_std ${CMAKE_SOURCE_DIR}/runtime/deploy/weir-man.sh
  COMMENT "weir.1 from weir describe --params")
add_custom_target(weir_man ALL DEPENDS ${WEIR_MAN})
foreach(dir ${WEIR_EXAMPLE_DIRS})
  get_filename_component(name ${dir} NAME)
  if(TARGET plugin_example_${name})
    add_dependencies(weir_man plugin_example_${name})
  endif()
endforeach()

install(FILES ${WEIR_MAN} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT runtime)
install(FILES ${CMAKE_SOURCE_DIR}/runtime/deploy/weir@.service
  DESTINATION lib/systemd/system COMPONENT runtime)
install(FILES ${CMAKE_SOURCE_DIR}/config/wordcount.ini
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT runtime)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME weir)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "weir maintainers <weir@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "stream-processing runtime for Kafka with C plugin operators")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)
set(CPACK_COMPONENTS_ALL Unspecified runtime sdk)
set(CPACK_COMPONENT_UNSPECIFIED_GROUP weir)
set(CPACK_COMPONENT_RUNTIME_GROUP weir)
set(CPACK_COMPONENT_SDK_GROUP libweir-dev)
set(CPACK_DEBIAN_WEIR_PACKAGE_NAME weir)
set(CPACK_DEBIAN_WEIR_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_WEIR_PACKAGE_SECTION net)
# What libweir.so.0 (and so weir) links: ldd build/libweir.so.0.
set(CPACK_DEBIAN_WEIR_PACKAGE_DEPENDS "librdkafka1 (>= 2.0), libinih1, librocksdb7.8, libmicrohttpd12")
set(CPACK_DEBIAN_LIBWEIR-DEV_PACKAGE_NAME libweir-dev)
set(CPACK_DEBIAN_LIBWEIR-DEV_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_LIBWEIR-DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_LIBWEIR-DEV_PACKAGE_DEPENDS "weir (= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "weir maintainers <weir@localhost>")
include(CPack)
