# Compiler flags for the engine: -O3, portable baseline x86-64, per-file SIMD flags.
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release)
endif()
set(CMAKE_C_STANDARD 11)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_C_FLAGS_RELEASE "-O3")
add_compile_options(-Wall -Wextra -Wno-unused-parameter -fno-strict-aliasing -D_GNU_SOURCE)
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

# Files named *_avx2.c get AVX2/FMA/F16C; *_avx512.c get the AVX-512 subsets we dispatch on.
# Only these files may contain such instructions; callers reach them through run-time dispatch.
function(lora4j_apply_simd_flags sources)
  foreach(src ${sources})
    if(src MATCHES "_avx2\\.c$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
    elseif(src MATCHES "_avx512\\.c$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS
        "-mavx2;-mfma;-mf16c;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512vnni")
    endif()
  endforeach()
endfunction()
