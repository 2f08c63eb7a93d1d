# -DPYHOST_SANITIZE=address,undefined | thread: instruments every target of the project.
if(PYHOST_SANITIZE)
  # -g1 (after a Debug build's -g, so it wins): line tables are all a sanitizer's report needs
  # for file:line in its stacks; full debug info made compiling the tests ~17 % slower.
  set(_flags -fsanitize=${PYHOST_SANITIZE} -fno-omit-frame-pointer -g1)
  if(PYHOST_SANITIZE MATCHES "undefined")
    list(APPEND _flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_flags})
  add_link_options(-fsanitize=${PYHOST_SANITIZE})
  message(STATUS "pyhost: sanitizers ${PYHOST_SANITIZE}")
endif()
