# Debian packages, by CPack's DEB generator: `cmake --build build --target
# package` writes, into build/:
#   postroll_<version>-<rev>_<arch>.deb       the command, the node's systemd unit and
#                                            /etc/postroll/node.toml (a conffile), the
#                                            dashboard, man page, bash completion, docs
#   libpostroll<abi>_<version>-<rev>_<arch>.deb  libpostroll.so.<abi>, for host apps
#   libpostroll-dev_<version>-<rev>_<arch>.deb   headers, the .so link, CMake and
#                                            pkg-config files
# docs/packaging.md says what each holds and why; tests/package_test.cpp
# installs them into a fresh Debian 12 and runs them there.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME postroll)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "postroll developers <maintainers@users.noreply.b-seed-657b0271.example>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The system files install to /etc and /lib: staged under DESTDIR.
set(CPACK_SET_DESTDIR OFF)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL cli system lib dev)
# The command and its system files are one package.
set(CPACK_COMPONENT_CLI_GROUP tool)
set(CPACK_COMPONENT_SYSTEM_GROUP tool)
set(CPACK_COMPONENT_LIB_GROUP lib)
set(CPACK_COMPONENT_DEV_GROUP dev)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: what the binaries link, from dpkg-shlibdeps...
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(POSTROLL_DEB_VERSION "${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}")

set(CPACK_DEBIAN_TOOL_PACKAGE_NAME postroll)
set(CPACK_DEBIAN_TOOL_PACKAGE_SECTION video)
# ...and what it loads at run time: the GStreamer plugins of every element
# in pipelines/media_requirements.cpp, the speech model and OCR data, the
# font the storyboard is captioned in, adduser for the postinst.
set(CPACK_DEBIAN_TOOL_PACKAGE_DEPENDS
  "adduser, gstreamer1.0-plugins-base, gstreamer1.0-plugins-good, gstreamer1.0-plugins-bad, gstreamer1.0-plugins-ugly, gstreamer1.0-libav, gstreamer1.0-x, fonts-dejavu-core, pocketsphinx-en-us, tesseract-ocr-eng")
set(CPACK_DEBIAN_TOOL_PACKAGE_SUGGESTS "gstreamer1.0-vaapi, dbus-user-session")
set(CPACK_DEBIAN_TOOL_PACKAGE_CONTROL_EXTRA
  "${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian/postinst;${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian/prerm;${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian/postrm;${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian/conffiles")
# Descriptions: the synopsis, then the long text (CPack indents it).
set(CPACK_DEBIAN_TOOL_DESCRIPTION "finalize and enrich recorded work sessions
postroll takes the folder a screen recorder leaves (a silent screen video,
short audio segments, screenshots and session.json) and makes one playable,
compressed MP4 with sound in sync, then a transcript, chapters, a summary
and a storyboard, as durable jobs that survive crashes and restarts.
.
This package holds the postroll command (process, watch, status, doctor),
the node as a systemd service (installed disabled) and its dashboard.")

set(CPACK_DEBIAN_LIB_PACKAGE_NAME ${POSTROLL_LIB_PACKAGE})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
# A shlibs file (only the library's package has a shared object) and
# ldconfig by trigger.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA "${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian/lib/triggers")
set(CPACK_DEBIAN_LIB_PACKAGE_DEPENDS
  "gstreamer1.0-plugins-base, gstreamer1.0-plugins-good, gstreamer1.0-plugins-bad, gstreamer1.0-plugins-ugly, gstreamer1.0-libav, gstreamer1.0-x, fonts-dejavu-core, pocketsphinx-en-us, tesseract-ocr-eng")
set(CPACK_DEBIAN_LIB_DESCRIPTION "postroll runtime library (C and C++ API)
The postroll runtime for host applications that embed it: the job queue,
GStreamer pipelines and enrichment behind a C++ and a C API.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libpostroll-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${POSTROLL_LIB_PACKAGE} (= ${POSTROLL_DEB_VERSION})")
set(CPACK_DEBIAN_DEV_DESCRIPTION "postroll runtime library (development files)
Headers of the C++ and C API of libpostroll, with a CMake package
(find_package(postroll)) and a pkg-config file.")

include(CPack)
