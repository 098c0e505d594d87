# clusterc_add_library(NAME OUTPUT OBJECTS STATIC_LIBS SHARED_LIBS
#                      [SHARED_PRIVATE libs...])
# A clusterc library in two forms from one OBJECT library, as passes/ builds
# its own: NAME (static, ClusterC::<export>) and NAME##Shared (shared,
# ClusterC::<export>_shared, versioned, linked as C++ since it carries MLIR's
# C API objects, and with -z defs so a missing symbol fails at link time).
function(clusterc_add_library name)
  cmake_parse_arguments(arg "" "OUTPUT;EXPORT;OBJECTS"
    "STATIC_LIBS;SHARED_LIBS;SHARED_PRIVATE" ${ARGN})
  add_library(${name} STATIC $<TARGET_OBJECTS:${arg_OBJECTS}>)
  target_link_libraries(${name} PUBLIC ${arg_STATIC_LIBS})
  add_library(${name}Shared SHARED $<TARGET_OBJECTS:${arg_OBJECTS}>)
  target_link_libraries(${name}Shared PUBLIC ${arg_SHARED_LIBS}
    PRIVATE ${arg_SHARED_PRIVATE})
  if(NOT CLUSTERC_SANITIZE)
    target_link_options(${name}Shared PRIVATE -Wl,-z,defs)
  endif()
  foreach(t ${name} ${name}Shared)
    set_target_properties(${t} PROPERTIES OUTPUT_NAME ${arg_OUTPUT})
    target_include_directories(${t} PUBLIC
      $<BUILD_INTERFACE:${CLUSTERC_INCLUDE_DIR}>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  endforeach()
  set_target_properties(${name} PROPERTIES EXPORT_NAME ${arg_EXPORT})
  set_target_properties(${name}Shared PROPERTIES EXPORT_NAME ${arg_EXPORT}_shared
    LINKER_LANGUAGE CXX VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
endfunction()
