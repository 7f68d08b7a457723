# The CUDA backend (native/cuda) builds two ways from the same sources:
#   - lora4j-cuda: nvcc, for GPUs, when a CUDA compiler is found (LORA4J_CUDA=AUTO) or required
#     (ON); the CUDA runtime is linked statically, so users need only the NVIDIA driver;
#   - lora4j-cuda-emu: the host C++ compiler with LCU_EMU, a CPU emulation of the kernels used by
#     the tests on machines without a GPU. Always built.
# Architectures: one for the normal build and CI (keeps the build short, catches compile errors),
# the release list (LORA4J_CUDA_RELEASE=ON) adds PTX for GPUs newer than sm_90.
set(LORA4J_CUDA "AUTO" CACHE STRING "Build the CUDA backend with nvcc: AUTO, ON or OFF")
option(LORA4J_CUDA_RELEASE "Build the CUDA backend for sm_80/86/89/90 plus PTX" OFF)
set(LORA4J_CUDA_ARCH "90" CACHE STRING "The one architecture of a normal (non-release) build")

set(LORA4J_HAVE_CUDA OFF)
if(NOT LORA4J_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(LORA4J_CUDA_RELEASE)
      set(CMAKE_CUDA_ARCHITECTURES "80-real;86-real;89-real;90-real;90-virtual")
    else()
      set(CMAKE_CUDA_ARCHITECTURES "${LORA4J_CUDA_ARCH}")
    endif()
    enable_language(CUDA)
    set(LORA4J_HAVE_CUDA ON)
    message(STATUS "lora4j: CUDA backend for ${CMAKE_CUDA_ARCHITECTURES} (${CMAKE_CUDA_COMPILER})")
  elseif(LORA4J_CUDA STREQUAL "ON")
    message(FATAL_ERROR "LORA4J_CUDA=ON but no CUDA compiler was found (set CMAKE_CUDA_COMPILER)")
  else()
    message(STATUS "lora4j: no CUDA compiler, building the CUDA backend's CPU emulation only")
  endif()
endif()

# Each .cu file also compiles as C++ for the emulation: a generated .cpp includes it.
function(lora4j_emu_wrappers out_var)
  set(wrappers)
  foreach(src ${ARGN})
    file(RELATIVE_PATH rel ${CMAKE_CURRENT_SOURCE_DIR} ${src})
    string(REPLACE "/" "_" flat ${rel})
    set(w ${CMAKE_CURRENT_BINARY_DIR}/emu_src/${flat}.cpp)
    file(CONFIGURE OUTPUT ${w} CONTENT "#include \"${src}\"\n")
    list(APPEND wrappers ${w})
  endforeach()
  set(${out_var} ${wrappers} PARENT_SCOPE)
endfunction()
