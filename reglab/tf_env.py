"""TensorFlow's settings for the course, needed before TensorFlow loads: no C++ or absl
log lines (nbgrader scores a test cell with anything on stderr as failed) and no oneDNN
kernels (their results vary from run to run). ``import reglab`` applies them; the
JupyterHub configuration reads them from this file, which imports nothing."""

TF_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
