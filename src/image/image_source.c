/* image_source.c - the guest's tree from --install-source: a copy of a directory (copy), the
 * contents of a tarball (tar), or the file system of another disk image (image), which is
 * mounted read-only through a loop device in a mount namespace of its own, so the mount and
 * the loop device go away with it whatever happens. */
#include "image/image_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/err.h"
#include "util/fileio.h"

static bool is_qcow2(const char *path)
{
    AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC);
    unsigned char magic[4];
    return fd >= 0 && read(fd, magic, 4) == 4 && memcmp(magic, "QFI\xfb", 4) == 0;
}

/* The image's whole-disk file system, copied out under a private read-only loop mount. */
static int copy_from_image(image_job *j)
{
    const image_opts *o = j->o;
    AUTOFREE char *raw = NULL;
    const char *source = o->source;
    if (is_qcow2(source)) {
        raw = kx_path_join(j->work, "source.raw");
        if (image_runl(o, "qemu-img", "convert", "-f", "qcow2", "-O", "raw", source, raw,
                       NULL) < 0)
            return -1;
        source = raw;
    }
    AUTOFREE char *mnt = kx_path_join(j->work, "source");
    if (mkdir(mnt, 0700) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create '%s'", mnt);
        return -1;
    }
    static const char script[] =
        "mount -o ro,loop \"$1\" \"$2\" 2>/dev/null || {\n"
        "  echo \"no file system to mount on the whole disk (partitioned images are not "
        "supported as --install-source)\" >&2; exit 1; }\n"
        "cp -a \"$2/.\" \"$3/\"\n";
    AUTOFREE char *what = kx_asprintf("copying the file system of '%s'", o->source);
    image_cmd c = {
        .argv = (char *const[]){"sh", "-c", (char *)script, "sh", (char *)source, mnt, j->tree,
                                NULL},
        .what = what,
        .verbose = o->verbose,
    };
    int r = image_run(&c);
    rmdir(mnt);
    if (raw)
        unlink(raw);
    return r;
}

int image_base_tree(image_job *j, const char *base)
{
    if (j->private_mounts) {
        AUTOFREE char *upper = kx_path_join(j->work, "upper");
        AUTOFREE char *ovl = kx_path_join(j->work, "ovlwork");
        AUTOFREE char *opts = kx_asprintf("lowerdir=%s,upperdir=%s,workdir=%s", base, upper, ovl);
        if (mkdir(upper, 0755) == 0 && mkdir(ovl, 0700) == 0 && mkdir(j->tree, 0755) == 0 &&
            mount("overlay", j->tree, "overlay", 0, opts) == 0)
            return 0;
        kx_debug("no overlay over '%s' (%s); copying it", base, strerror(errno));
        rmdir(j->tree);
    }
    AUTOFREE char *from = kx_asprintf("%s/.", base);
    if (mkdir(j->tree, 0755) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create '%s'", j->tree);
        return -1;
    }
    return image_runl(j->o, "cp", "-a", from, j->tree, NULL);
}

int image_source_copy(image_job *j)
{
    const image_opts *o = j->o;
    if (o->method == IMG_INSTALL_DEBOOTSTRAP)
        return image_template_copy(j);
    static const char *const verbs[] = {"", "Copying", "Unpacking", "Copying the file system of"};
    image_step(j, "%s %s into a work tree ...", verbs[o->method], o->source);
    if (o->method == IMG_INSTALL_COPY)
        return image_base_tree(j, o->source);
    if (mkdir(j->tree, 0755) < 0) {
        kx_err_errno(KXL_ERR_INTERNAL, "cannot create '%s'", j->tree);
        return -1;
    }
    if (o->method == IMG_INSTALL_IMAGE)
        return copy_from_image(j);
    return image_runl(o, "tar", "-x", "-p", "--numeric-owner", "--xattrs", "--xattrs-include=*",
                      "-f", o->source, "-C", j->tree, NULL);
}
