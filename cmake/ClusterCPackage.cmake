# Installation and packages: `cmake --install` gives headers, libraries,
# clusterc and ClusterCPlugin.so, a CMake package and pkg-config files:
#
#   find_package(ClusterC REQUIRED)          # ClusterC::clusterrt (static),
#                                            # ClusterC::clusterrt_shared
#   find_package(ClusterC REQUIRED COMPONENTS passes)
#     ClusterC::passes         libclusterc-passes.a; links MLIR's static C API
#                              (the package finds Debian's MLIR for it)
#     ClusterC::passes_shared  libclusterc-passes.so; exports the MLIR C API it
#                              carries, uses libMLIR.so: link nothing else of MLIR
#     ClusterC::plugin         ClusterCPlugin.so, for mlir-opt --load-pass-plugin
#   find_package(ClusterC REQUIRED COMPONENTS codegen train)
#     ClusterC::codegen, ClusterC::codegen_shared   libclusterc-codegen.{a,so}
#     ClusterC::train, ClusterC::train_shared       libclusterc-train.{a,so}
#     (the shared ones on libclusterc-passes.so, like passes_shared)
#   pkg-config --cflags --libs clusterrt | clusterc-passes | clusterc-codegen
#     | clusterc-train   (shared libraries)
#
# Everything is relocatable: the config and .pc files find the prefix from
# their own location, so `cmake --install build --prefix DIR` works anywhere.
include(CMakePackageConfigHelpers)
set(CLUSTERC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ClusterC)

# The runtime (runtime/CMakeLists.txt installs the files; this adds them to
# the package).
install(TARGETS clusterrt clusterrt_shared EXPORT ClusterCRuntimeTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT ClusterCRuntimeTargets NAMESPACE ClusterC::
  DESTINATION ${CLUSTERC_CMAKE_DIR})

if(CLUSTERC_ENABLE_MLIR)
  # passes.h includes mlir-c headers: consumers need MLIR's include dir.
  foreach(t ClusterCPasses ClusterCPassesShared ClusterCCodegen ClusterCCodegenShared
      ClusterCTrain ClusterCTrainShared)
    target_include_directories(${t} SYSTEM INTERFACE
      $<INSTALL_INTERFACE:${MLIR_INCLUDE_DIRS}>)
  endforeach()
  # libMLIR.so lives in LLVM's private lib dir; libclusterrt.so beside us.
  set_target_properties(ClusterCPassesShared ClusterCCodegenShared ClusterCTrainShared
    PROPERTIES INSTALL_RPATH "\$ORIGIN;${LLVM_LIBRARY_DIR}")
  install(TARGETS ClusterCPasses ClusterCPassesShared ClusterCCodegen ClusterCCodegenShared
    ClusterCTrain ClusterCTrainShared
    EXPORT ClusterCPassesTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(TARGETS ClusterCPlugin EXPORT ClusterCPassesTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/clusterc)
  set_target_properties(ClusterCPlugin PROPERTIES EXPORT_NAME plugin)
  install(EXPORT ClusterCPassesTargets NAMESPACE ClusterC::
    DESTINATION ${CLUSTERC_CMAKE_DIR})
  install(FILES ${CLUSTERC_INCLUDE_DIR}/clusterc/passes.h
    ${CLUSTERC_INCLUDE_DIR}/clusterc/status.h ${CLUSTERC_INCLUDE_DIR}/clusterc/codegen.h
    ${CLUSTERC_INCLUDE_DIR}/clusterc/train.h
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/clusterc)
endif()

configure_package_config_file(cmake/ClusterCConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ClusterCConfig.cmake
  INSTALL_DESTINATION ${CLUSTERC_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ClusterCConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ClusterCConfig.cmake
  ${PROJECT_BINARY_DIR}/ClusterCConfigVersion.cmake
  DESTINATION ${CLUSTERC_CMAKE_DIR})

# pkg-config: prefix relative to the .pc file.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(CLUSTERC_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH rel "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  string(REGEX REPLACE "/$" "" rel "${rel}")
  set(CLUSTERC_PC_PREFIX "\${pcfiledir}/${rel}")
endif()
set(pcs clusterrt)
if(CLUSTERC_ENABLE_MLIR)
  list(APPEND pcs clusterc-passes clusterc-codegen clusterc-train)
endif()
foreach(pc IN LISTS pcs)
  configure_file(cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
