# cmake -DROOT=<repo> -DOUT=<file.cpp> -P embed_kernel_sources.cmake
# Embeds kernel_src/**/*.cuh as "jit/..." and the device-safe public header include/jit/types.hpp.
include(${CMAKE_CURRENT_LIST_DIR}/embed_files.cmake)
file(GLOB_RECURSE paths RELATIVE ${ROOT}/kernel_src ${ROOT}/kernel_src/*.cuh)
list(SORT paths)
set(names ${paths})
set(full "")
foreach(p ${paths})
  list(APPEND full ${ROOT}/kernel_src/${p})
endforeach()
list(APPEND names "jit/types.hpp")
list(APPEND full ${ROOT}/include/jit/types.hpp)
embed_files(OUT ${OUT} FUNCTION embedded_kernel_sources NAMES ${names} PATHS ${full})
