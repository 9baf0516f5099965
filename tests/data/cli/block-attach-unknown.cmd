block-attach nosuch 'file:/x.img,xvdb,w'
