"""Insurance: per-order accident cover (每单保费3至10元，最高100万元理赔) bought by the employer."""
