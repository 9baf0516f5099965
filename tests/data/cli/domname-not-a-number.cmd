domname abc
