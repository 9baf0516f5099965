console -e ab somedom
