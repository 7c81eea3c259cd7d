# `cmake --install`: libpostroll.so, the public headers, a CMake package
# (find_package(postroll) -> postroll::postroll) and a pkg-config file.
include(CMakePackageConfigHelpers)

install(TARGETS postroll EXPORT postrollTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES
  include/postroll/config.hpp include/postroll/error.hpp include/postroll/event.hpp
  include/postroll/export.h include/postroll/job.hpp include/postroll/postroll.h
  include/postroll/node.hpp include/postroll/postroll.hpp include/postroll/runtime.hpp
  include/postroll/stage_results.hpp include/postroll/stages.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/postroll)
install(TARGETS postroll_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY web/ DESTINATION ${CMAKE_INSTALL_DATADIR}/postroll/web)

install(EXPORT postrollTargets NAMESPACE postroll:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/postroll)
configure_package_config_file(cmake/postrollConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/postrollConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/postroll)
# Same major version = same ABI (the soname).
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/postrollConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/postrollConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/postrollConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/postroll)

file(RELATIVE_PATH POSTROLL_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" POSTROLL_PC_TO_PREFIX "${POSTROLL_PC_TO_PREFIX}")
configure_file(cmake/postroll.pc.in ${CMAKE_CURRENT_BINARY_DIR}/postroll.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/postroll.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
