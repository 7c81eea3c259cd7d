# `cmake --install`: the postroll command with its dashboard, man page, bash
# completion and documentation (component "cli"), libpostroll.so (component
# "lib"), its headers, CMake package and pkg-config file (component "dev").
# The Debian package (cmake/package.cmake) makes one .deb of each; its
# system files (/etc/postroll, the systemd unit) are component "system",
# which only the package installs: `cmake --install --prefix P` never
# writes outside P.
include(CMakePackageConfigHelpers)

install(TARGETS postroll EXPORT postrollTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES
  include/postroll/config.hpp include/postroll/error.hpp include/postroll/event.hpp
  include/postroll/export.h include/postroll/job.hpp include/postroll/postroll.h
  include/postroll/node.hpp include/postroll/postroll.hpp include/postroll/runtime.hpp
  include/postroll/stage_results.hpp include/postroll/stages.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/postroll COMPONENT dev)
install(TARGETS postroll_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)
install(DIRECTORY web/ DESTINATION ${CMAKE_INSTALL_DATADIR}/postroll/web COMPONENT cli)
install(FILES apps/completion.bash RENAME postroll
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions COMPONENT cli)

# Debian wants man pages and changelogs compressed, without a timestamp in
# the gzip header (reproducible); made once at build time.
set(POSTROLL_PKG_DIR ${CMAKE_BINARY_DIR}/package-files)
add_custom_command(OUTPUT ${POSTROLL_PKG_DIR}/postroll.1.gz ${POSTROLL_PKG_DIR}/changelog.Debian.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${POSTROLL_PKG_DIR}
  COMMAND gzip -9n -c ${CMAKE_CURRENT_SOURCE_DIR}/docs/postroll.1 > ${POSTROLL_PKG_DIR}/postroll.1.gz
  COMMAND gzip -9n -c ${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian/changelog > ${POSTROLL_PKG_DIR}/changelog.Debian.gz
  DEPENDS docs/postroll.1 deploy/debian/changelog
  COMMENT "postroll: compressed man page and changelog")
add_custom_target(postroll_package_files ALL DEPENDS ${POSTROLL_PKG_DIR}/postroll.1.gz ${POSTROLL_PKG_DIR}/changelog.Debian.gz)
install(FILES ${POSTROLL_PKG_DIR}/postroll.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT cli)

# Each package's /usr/share/doc/<package>: copyright and changelog (Debian
# policy), and for the command the user documentation.
set(POSTROLL_LIB_PACKAGE libpostroll${POSTROLL_ABI_VERSION})
foreach(pair IN ITEMS "cli:postroll" "lib:${POSTROLL_LIB_PACKAGE}" "dev:libpostroll-dev")
  string(REPLACE ":" ";" pair "${pair}")
  list(GET pair 0 component)
  list(GET pair 1 package)
  install(FILES deploy/debian/copyright ${POSTROLL_PKG_DIR}/changelog.Debian.gz
    DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${package} COMPONENT ${component})
endforeach()
file(GLOB POSTROLL_USER_DOCS ${CMAKE_CURRENT_SOURCE_DIR}/docs/*.md)
install(FILES README.md ${POSTROLL_USER_DOCS} DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/postroll COMPONENT cli)
install(FILES deploy/coordinator.toml deploy/worker.toml deploy/standalone.toml
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/postroll/examples COMPONENT cli)

# The system service (package only: absolute paths).
install(FILES deploy/standalone.toml RENAME node.toml DESTINATION /etc/postroll COMPONENT system EXCLUDE_FROM_ALL)
install(FILES deploy/postroll.service DESTINATION /lib/systemd/system COMPONENT system EXCLUDE_FROM_ALL)

install(EXPORT postrollTargets NAMESPACE postroll:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/postroll COMPONENT dev)
configure_package_config_file(cmake/postrollConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/postrollConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/postroll)
# Same major version = same ABI (the soname).
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/postrollConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/postrollConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/postrollConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/postroll COMPONENT dev)

file(RELATIVE_PATH POSTROLL_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" POSTROLL_PC_TO_PREFIX "${POSTROLL_PC_TO_PREFIX}")
configure_file(cmake/postroll.pc.in ${CMAKE_CURRENT_BINARY_DIR}/postroll.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/postroll.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
