{
  # The native training path (lib/engine/native/): an N-API addon over the platform BLAS.
  # Compiled for the baseline of its architecture (x86-64: SSE2), so a build copied to another CPU (a container
  # image, a shared home, a CI cache) still loads; kernels.cc compiles its AVX-512 and AVX2 kernels apart and
  # picks them at run time. Setup rebuilds when this file, a source, Node's ABI or the compiler changes.
  "targets": [
    {
      "target_name": "fashion_ann_native",
      "sources": ["src/addon.cc", "src/blas.cc", "src/kernels.cc", "src/optimizer.cc", "src/pool.cc", "src/trainer.cc"],
      # node-addon-api is header-only: its include folder, C++ exceptions on (errors become JS exceptions).
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "conditions": [
        ["OS=='linux'", {
          "cflags_cc": ["-O3", "-std=c++17", "-fexceptions", "-fno-math-errno"],
          "cflags_cc!": ["-O2", "-O0", "-fno-exceptions", "-std=gnu++17", "-std=gnu++1y", "-std=gnu++14"],
          "libraries": ["-lopenblas"],
          "conditions": [
            ["target_arch=='x64'", {"cflags_cc": ["-march=x86-64", "-mtune=generic"]}]
          ]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "GCC_OPTIMIZATION_LEVEL": "3",
            "MACOSX_DEPLOYMENT_TARGET": "11.0"
          },
          "libraries": ["-framework Accelerate"]
        }]
      ]
    }
  ]
}
