trigger nosuch nmi
