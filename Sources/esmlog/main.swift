print("esmlog")
