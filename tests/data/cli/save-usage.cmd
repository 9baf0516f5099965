save -c -p dom f
