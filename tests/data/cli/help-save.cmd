help save
